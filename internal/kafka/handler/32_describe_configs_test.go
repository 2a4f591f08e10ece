package handler_test

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// findConfig returns the config named key of r, or fails.
func findConfig(t *testing.T, r kadm.ResourceConfig, key string) kadm.Config {
	t.Helper()
	for _, c := range r.Configs {
		if c.Key == key {
			return c
		}
	}
	t.Fatalf("%s has no config %s", r.Name, key)
	return kadm.Config{}
}

func TestDescribeTopicConfigs(t *testing.T) {
	a := startAdmin(t)
	a.createTopic(t, "described", 1, map[string]*string{"retention.ms": strp("1234")})
	rcs, err := a.adm.DescribeTopicConfigs(admCtx(t), "described", "nope")
	if err != nil {
		t.Fatal(err)
	}
	rc, err := rcs.On("described", nil)
	if err != nil || rc.Err != nil {
		t.Fatalf("describe: %v %v", err, rc.Err)
	}
	ret := findConfig(t, rc, "retention.ms")
	if ret.MaybeValue() != "1234" || ret.Source != kmsg.ConfigSourceDynamicTopicConfig {
		t.Errorf("retention.ms = %q from %s", ret.MaybeValue(), ret.Source)
	}
	if len(ret.Synonyms) < 2 || ret.Synonyms[0].Source != kmsg.ConfigSourceDynamicTopicConfig {
		t.Errorf("retention.ms synonyms = %+v: want the override, then the broker's", ret.Synonyms)
	}
	cp := findConfig(t, rc, "cleanup.policy")
	if cp.MaybeValue() != "delete" || cp.Source != kmsg.ConfigSourceDefaultConfig {
		t.Errorf("cleanup.policy = %q from %s", cp.MaybeValue(), cp.Source)
	}
	if missing, _ := rcs.On("nope", nil); errName(missing.Err) != "UNKNOWN_TOPIC_OR_PARTITION" {
		t.Errorf("unknown topic: %v", missing.Err)
	}
}

func TestDescribeBrokerConfigs(t *testing.T) {
	a := startAdmin(t)
	rcs, err := a.adm.DescribeBrokerConfigs(admCtx(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	rc, _ := rcs.On("1", nil)
	if rc.Err != nil {
		t.Fatalf("describe broker 1: %v %s", rc.Err, rc.ErrMessage)
	}
	nodeID := findConfig(t, rc, "node.id")
	if nodeID.MaybeValue() == "" {
		t.Errorf("node.id has no value")
	}
	findConfig(t, rc, "log.retention.hours")

	// Other resources, with raw requests.
	req := kmsg.NewPtrDescribeConfigsRequest()
	req.IncludeDocumentation = true
	add := func(typ kmsg.ConfigResourceType, name string, keys ...string) {
		r := kmsg.NewDescribeConfigsRequestResource()
		r.ResourceType, r.ResourceName, r.ConfigNames = typ, name, keys
		req.Resources = append(req.Resources, r)
	}
	add(kmsg.ConfigResourceTypeBroker, "1", "log.retention.hours", "num.partitions")
	add(kmsg.ConfigResourceTypeBroker, "2")
	add(kmsg.ConfigResourceTypeBroker, "x")
	add(kmsg.ConfigResourceTypeBroker, "")
	add(kmsg.ConfigResourceTypeBrokerLogger, "1")
	add(kmsg.ConfigResourceTypeClientMetrics, "m")
	resp := a.requestAt(t, 4, req).(*kmsg.DescribeConfigsResponse)
	want := []struct {
		err, msg string
		n        int
	}{
		{"OK", "", 2},
		{"INVALID_REQUEST", "Unexpected broker id, expected 1 or empty string, but received 2", 0},
		{"INVALID_REQUEST", "Broker id must be an integer, but it is: x", 0},
		{"OK", "", 0}, // no dynamic cluster defaults yet
		{"OK", "", 0},
		{"INVALID_REQUEST", "Unsupported resource type: CLIENT_METRICS", 0},
	}
	for i, w := range want {
		r := resp.Resources[i]
		msg := ""
		if r.ErrorMessage != nil {
			msg = *r.ErrorMessage
		}
		if codeName(r.ErrorCode) != w.err || msg != w.msg || len(r.Configs) != w.n {
			t.Errorf("resource %d (%s): %s %q with %d configs, want %s %q with %d", i, r.ResourceName, codeName(r.ErrorCode), msg, len(r.Configs), w.err, w.msg, w.n)
		}
	}
	for _, c := range resp.Resources[0].Configs {
		if c.Documentation == nil || *c.Documentation == "" || c.ConfigType == kmsg.ConfigTypeUnknown {
			t.Errorf("%s: documentation %v type %v", c.Name, c.Documentation, c.ConfigType)
		}
		if c.ConfigSynonyms != nil {
			t.Errorf("%s: synonyms not asked for: %+v", c.Name, c.ConfigSynonyms)
		}
	}
}

func TestDescribeConfigsV0(t *testing.T) {
	a := startAdmin(t)
	a.createTopic(t, "old", 1, map[string]*string{"segment.bytes": strp("2000000")})
	req := kmsg.NewPtrDescribeConfigsRequest()
	r := kmsg.NewDescribeConfigsRequestResource()
	r.ResourceType, r.ResourceName, r.ConfigNames = kmsg.ConfigResourceTypeTopic, "old", []string{"segment.bytes", "retention.ms"}
	req.Resources = append(req.Resources, r)
	resp := a.requestAt(t, 0, req).(*kmsg.DescribeConfigsResponse)
	got := map[string]bool{}
	for _, c := range resp.Resources[0].Configs {
		got[c.Name] = c.IsDefault
	}
	if len(got) != 2 || got["segment.bytes"] || !got["retention.ms"] {
		t.Fatalf("v0 is_default by key = %v", got)
	}
}
