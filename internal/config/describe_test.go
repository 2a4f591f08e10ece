package config

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// render prints an entry as "name=value SOURCE [syn=value SOURCE, ...]".
func render(e Entry) string {
	var syns []string
	for _, s := range e.Synonyms {
		syns = append(syns, fmt.Sprintf("%s=%s %v", s.Name, deref(s.Value), s.Source))
	}
	return fmt.Sprintf("%s=%s %v [%s]", e.Name, deref(e.Value), e.Source, strings.Join(syns, ", "))
}

func deref(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

func describeOne(t *testing.T, entries []Entry) Entry {
	t.Helper()
	if len(entries) != 1 {
		t.Fatalf("got %d entries, want 1", len(entries))
	}
	return entries[0]
}

func TestDescribeTopicSources(t *testing.T) {
	file := mustLoad(t, map[string]string{"log.retention.hours": "1", "log.segment.bytes": "2097152"})
	dyn, warns := file.WithDynamic(nil, map[string]string{"log.retention.ms": "5000"})
	if len(warns) != 0 {
		t.Fatalf("warnings: %v", warns)
	}
	tests := []struct {
		name      string
		b         *Broker
		overrides map[string]string
		key       string
		want      string
	}{
		{"default", Default(), nil, "retention.ms",
			"retention.ms=604800000 DEFAULT_CONFIG [log.retention.hours=168 DEFAULT_CONFIG]"},
		{"static hours", file, nil, "retention.ms",
			"retention.ms=3600000 STATIC_BROKER_CONFIG [log.retention.hours=1 STATIC_BROKER_CONFIG, log.retention.hours=168 DEFAULT_CONFIG]"},
		{"topic override", file, map[string]string{"retention.ms": " 10 "}, "retention.ms",
			"retention.ms=10 DYNAMIC_TOPIC_CONFIG [retention.ms=10 DYNAMIC_TOPIC_CONFIG, log.retention.hours=1 STATIC_BROKER_CONFIG, log.retention.hours=168 DEFAULT_CONFIG]"},
		{"dynamic cluster default", dyn, nil, "retention.ms",
			"retention.ms=5000 DYNAMIC_DEFAULT_BROKER_CONFIG [log.retention.ms=5000 DYNAMIC_DEFAULT_BROKER_CONFIG, log.retention.hours=1 STATIC_BROKER_CONFIG, log.retention.hours=168 DEFAULT_CONFIG]"},
		{"same-name synonym", file, nil, "segment.bytes",
			"segment.bytes=2097152 STATIC_BROKER_CONFIG [log.segment.bytes=2097152 STATIC_BROKER_CONFIG, log.segment.bytes=1073741824 DEFAULT_CONFIG]"},
		{"no synonym", file, nil, "remote.storage.enable",
			"remote.storage.enable=false DEFAULT_CONFIG []"},
		{"list canonical", file, map[string]string{"cleanup.policy": "compact , delete"}, "cleanup.policy",
			"cleanup.policy=compact,delete DYNAMIC_TOPIC_CONFIG [cleanup.policy=compact,delete DYNAMIC_TOPIC_CONFIG, log.cleanup.policy=delete DEFAULT_CONFIG]"},
		{"double", file, nil, "min.cleanable.dirty.ratio",
			"min.cleanable.dirty.ratio=0.5 DEFAULT_CONFIG [log.cleaner.min.cleanable.ratio=0.5 DEFAULT_CONFIG]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := describeOne(t, DescribeTopic(tt.b, tt.overrides, []string{tt.key}, true, false))
			if got := render(e); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			if e.ReadOnly || e.Sensitive || e.Documentation != nil {
				t.Errorf("ReadOnly=%v Sensitive=%v Documentation=%v", e.ReadOnly, e.Sensitive, e.Documentation)
			}
		})
	}
}

func TestDescribeTopicAllKeys(t *testing.T) {
	entries := DescribeTopic(nil, map[string]string{"message.format.version": "3.0"}, nil, false, true)
	if len(entries) != len(TopicDefs()) {
		t.Fatalf("%d entries, want %d", len(entries), len(TopicDefs()))
	}
	for i, e := range entries {
		d := TopicDefs()[i]
		if e.Name != d.Name || e.Type != d.Type || e.Synonyms != nil || e.Documentation == nil || *e.Documentation != d.Doc {
			t.Errorf("entry %d = %+v, def %s", i, e, d.Name)
		}
		if e.Value == nil || *e.Value != d.Default {
			t.Errorf("%s = %s, want default %s", e.Name, deref(e.Value), d.Default)
		}
	}
	// Source is computed even without synonyms.
	if e := describeOne(t, DescribeTopic(nil, map[string]string{"segment.ms": "5"}, []string{"segment.ms", "nope"}, false, false)); e.Source != SourceDynamicTopic {
		t.Errorf("source = %v", e.Source)
	}
}

func TestDescribeBroker(t *testing.T) {
	b := mustLoad(t, map[string]string{"log.retention.hours": "1", "log.retention.ms": "99", "ssl.keystore.password": "secret"})
	b, _ = b.WithDynamic(map[string]string{"message.max.bytes": "2000"}, map[string]string{"message.max.bytes": "3000", "log.retention.ms": "77"})
	tests := []struct {
		key, want string
		readOnly  bool
	}{
		{"message.max.bytes", "message.max.bytes=2000 DYNAMIC_BROKER_CONFIG [message.max.bytes=2000 DYNAMIC_BROKER_CONFIG, message.max.bytes=3000 DYNAMIC_DEFAULT_BROKER_CONFIG, message.max.bytes=1048588 DEFAULT_CONFIG]", false},
		{"log.retention.ms", "log.retention.ms=77 DYNAMIC_DEFAULT_BROKER_CONFIG [log.retention.ms=77 DYNAMIC_DEFAULT_BROKER_CONFIG, log.retention.ms=99 STATIC_BROKER_CONFIG, log.retention.hours=1 STATIC_BROKER_CONFIG, log.retention.hours=168 DEFAULT_CONFIG]", false},
		{"log.retention.hours", "log.retention.hours=1 STATIC_BROKER_CONFIG [log.retention.hours=1 STATIC_BROKER_CONFIG, log.retention.hours=168 DEFAULT_CONFIG]", true},
		{"log.retention.minutes", "log.retention.minutes=<nil> DEFAULT_CONFIG []", true},
		{"ssl.keystore.password", "ssl.keystore.password=<nil> STATIC_BROKER_CONFIG [ssl.keystore.password=<nil> STATIC_BROKER_CONFIG]", true},
		{"node.id", "node.id=1 DEFAULT_CONFIG [node.id=1 DEFAULT_CONFIG]", true},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			e := describeOne(t, DescribeBroker(b, []string{tt.key}, true, false))
			if got := render(e); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			if e.ReadOnly != tt.readOnly {
				t.Errorf("ReadOnly = %v", e.ReadOnly)
			}
		})
	}
	if n := len(DescribeBroker(b, nil, false, false)); n != len(BrokerDefs()) {
		t.Errorf("all keys: %d entries, want %d", n, len(BrokerDefs()))
	}
	// The topic view of the same broker follows the dynamic default.
	if e := describeOne(t, DescribeTopic(b, nil, []string{"retention.ms"}, false, false)); *e.Value != "77" || e.Source != SourceDynamicDefaultBroker {
		t.Errorf("retention.ms = %s from %v", *e.Value, e.Source)
	}
}

func TestDescribeBrokerDefaults(t *testing.T) {
	b, _ := Default().WithDynamic(map[string]string{"min.insync.replicas": "2"}, map[string]string{"min.insync.replicas": "3", "log.retention.bytes": "10"})
	var got []string
	for _, e := range DescribeBrokerDefaults(b, nil, true, false) {
		got = append(got, render(e))
	}
	want := []string{
		"log.retention.bytes=10 DYNAMIC_DEFAULT_BROKER_CONFIG [log.retention.bytes=10 DYNAMIC_DEFAULT_BROKER_CONFIG]",
		"min.insync.replicas=3 DYNAMIC_DEFAULT_BROKER_CONFIG [min.insync.replicas=3 DYNAMIC_DEFAULT_BROKER_CONFIG]",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if n := len(DescribeBrokerDefaults(b, []string{"log.retention.bytes"}, false, false)); n != 1 {
		t.Errorf("filtered: %d entries", n)
	}
}
