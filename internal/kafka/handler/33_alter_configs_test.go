package handler_test

import (
	"maps"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// topicOverrides returns a topic's DYNAMIC_TOPIC_CONFIG values.
func (a *admNode) topicOverrides(t *testing.T, topic string) map[string]string {
	t.Helper()
	rcs, err := a.adm.DescribeTopicConfigs(admCtx(t), topic)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, c := range rcs[0].Configs {
		if c.Source == kmsg.ConfigSourceDynamicTopicConfig {
			out[c.Key] = c.MaybeValue()
		}
	}
	return out
}

func TestAlterConfigsLegacy(t *testing.T) {
	a := startAdmin(t)
	a.createTopic(t, "legacy", 1, map[string]*string{"retention.ms": strp("1000"), "cleanup.policy": strp("compact")})

	res, err := a.adm.AlterTopicConfigsState(admCtx(t), []kadm.AlterConfig{{Name: "segment.bytes", Value: strp("2000000")}}, "legacy")
	if err != nil || res[0].Err != nil {
		t.Fatalf("alter: %v %+v", err, res)
	}
	if got, want := a.topicOverrides(t, "legacy"), map[string]string{"segment.bytes": "2000000"}; !maps.Equal(got, want) {
		t.Errorf("overrides after full replace = %v, want %v", got, want)
	}

	res, err = a.adm.AlterTopicConfigsState(admCtx(t), []kadm.AlterConfig{{Name: "retention.ms", Value: strp("soon")}}, "legacy")
	if err != nil {
		t.Fatal(err)
	}
	if errName(res[0].Err) != "INVALID_CONFIG" || res[0].ErrMessage != "Invalid value soon for configuration retention.ms: Not a number of type LONG" {
		t.Errorf("invalid value: %v %q", res[0].Err, res[0].ErrMessage)
	}

	res, err = a.adm.ValidateAlterTopicConfigsState(admCtx(t), nil, "legacy")
	if err != nil || res[0].Err != nil {
		t.Fatalf("validate only: %v %+v", err, res)
	}
	if got := a.topicOverrides(t, "legacy"); len(got) != 1 {
		t.Errorf("validate only changed the overrides: %v", got)
	}

	res, err = a.adm.AlterTopicConfigsState(admCtx(t), nil, "nope")
	if err != nil || errName(res[0].Err) != "UNKNOWN_TOPIC_OR_PARTITION" {
		t.Errorf("unknown topic: %v %+v", err, res)
	}
}

func TestAlterBrokerConfigsLegacy(t *testing.T) {
	a := startAdmin(t)
	res, err := a.adm.AlterBrokerConfigsState(admCtx(t), []kadm.AlterConfig{{Name: "log.retention.ms", Value: strp("60000")}})
	if err != nil || res[0].Err != nil {
		t.Fatalf("alter cluster default: %v %+v", err, res)
	}
	rcs, err := a.adm.DescribeBrokerConfigs(admCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	c := findConfig(t, rcs[0], "log.retention.ms")
	if c.MaybeValue() != "60000" || c.Source != kmsg.ConfigSourceDynamicDefaultBrokerConfig {
		t.Errorf("cluster default log.retention.ms = %q from %s", c.MaybeValue(), c.Source)
	}
	rcs, err = a.adm.DescribeBrokerConfigs(admCtx(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	if c := findConfig(t, rcs[0], "log.retention.ms"); c.MaybeValue() != "60000" {
		t.Errorf("broker 1 log.retention.ms = %q, want the cluster default", c.MaybeValue())
	}
	// kadm would route a broker resource to that broker: send it raw.
	req := kmsg.NewPtrAlterConfigsRequest()
	rr := kmsg.NewAlterConfigsRequestResource()
	rr.ResourceType, rr.ResourceName = kmsg.ConfigResourceTypeBroker, "9"
	req.Resources = append(req.Resources, rr)
	resp := a.request(t, req).(*kmsg.AlterConfigsResponse)
	if r := resp.Resources[0]; codeName(r.ErrorCode) != "BROKER_ID_NOT_REGISTERED" || r.ErrorMessage == nil || *r.ErrorMessage != "No broker with id 9 found." {
		t.Errorf("unregistered broker: %s %v", codeName(r.ErrorCode), r.ErrorMessage)
	}
}
