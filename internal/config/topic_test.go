package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestResolveTopicInheritsBroker(t *testing.T) {
	b := mustLoad(t, map[string]string{
		"log.retention.hours":         "1",
		"log.segment.bytes":           "2097152",
		"log.cleanup.policy":          "compact",
		"message.max.bytes":           "2000000",
		"log.message.timestamp.type":  "LogAppendTime",
		"log.flush.interval.messages": "1",
		"min.insync.replicas":         "2",
		"compression.type":            "zstd",
		"log.preallocate":             "true",
		"sluice.write.caching":        "true",
	})
	tp, err := ResolveTopic(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name     string
		got, exp any
	}{
		{"RetentionMs", tp.RetentionMs, int64(3600000)},
		{"SegmentBytes", tp.SegmentBytes, int32(2097152)},
		{"CleanupPolicy", tp.CleanupPolicy, []string{"compact"}},
		{"Compact", tp.Compact(), true},
		{"Delete", tp.Delete(), false},
		{"MaxMessageBytes", tp.MaxMessageBytes, int32(2000000)},
		{"LogAppendTime", tp.LogAppendTime(), true},
		{"FlushMessages", tp.FlushMessages, int64(1)},
		{"MinInsyncReplicas", tp.MinInsyncReplicas, int32(2)},
		{"CompressionType", tp.CompressionType, "zstd"},
		{"Preallocate", tp.Preallocate, true},
		{"WriteCaching", tp.WriteCaching, true},
		{"SegmentMs (default)", tp.SegmentMs, int64(604800000)},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.exp) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.exp)
		}
	}
}

func TestResolveTopicOverrides(t *testing.T) {
	b := mustLoad(t, map[string]string{"log.retention.hours": "1", "log.cleanup.policy": "compact"})
	tp, err := ResolveTopic(b, map[string]string{
		"retention.ms":              "1000",
		"cleanup.policy":            "compact, delete",
		"min.cleanable.dirty.ratio": "0.1",
		"message.format.version":    "3.0-IV1", // ignored, as Kafka 4 does
	})
	if err != nil {
		t.Fatal(err)
	}
	if tp.RetentionMs != 1000 || !tp.Compact() || !tp.Delete() || tp.MinCleanableDirtyRatio != 0.1 {
		t.Errorf("topic = %+v", tp)
	}
	// The cached defaults must not be shared with callers.
	d := b.TopicDefaults()
	d.CleanupPolicy[0] = "mutated"
	if b.TopicDefaults().CleanupPolicy[0] != "compact" {
		t.Error("TopicDefaults shares its slices")
	}
	if tp, _ := ResolveTopic(nil, nil); tp.RetentionMs != 604800000 {
		t.Errorf("nil broker RetentionMs = %d", tp.RetentionMs)
	}
}

func TestValidateTopicConfigs(t *testing.T) {
	tests := []struct {
		name string
		in   map[string]string
		key  string
		kind error
		msg  string
	}{
		{"ok", map[string]string{"retention.ms": "-1", "cleanup.policy": ""}, "", nil, ""},
		{"ignored keys accepted", map[string]string{"message.downconversion.enable": "false"}, "", nil, ""},
		{"unknown", map[string]string{"retention.ms": "x", "retention.mss": "1"}, "retention.mss", ErrUnknownKey, "Unknown topic config name: retention.mss"},
		{"removed in Kafka 4", map[string]string{"message.timestamp.difference.max.ms": "1"}, "message.timestamp.difference.max.ms", ErrUnknownKey, "Unknown topic config name"},
		{"invalid", map[string]string{"retention.ms": "-2"}, "retention.ms", ErrInvalidValue, "Invalid value -2 for configuration retention.ms: Value must be at least -1"},
		{"segment too small", map[string]string{"segment.bytes": "14"}, "segment.bytes", ErrInvalidValue, "Value must be at least 1048576"},
		{"bad policy", map[string]string{"cleanup.policy": "delete,purge"}, "cleanup.policy", ErrInvalidValue, "Invalid value purge"},
		{"throttled", map[string]string{"leader.replication.throttled.replicas": "0:1,x"}, "leader.replication.throttled.replicas", ErrInvalidValue, "wildcard"},
		{"throttled ok", map[string]string{"leader.replication.throttled.replicas": "0:1,1:2", "follower.replication.throttled.replicas": "*"}, "", nil, ""},
		{"lag conflict", map[string]string{"min.compaction.lag.ms": "100", "max.compaction.lag.ms": "10"}, "min.compaction.lag.ms", ErrConflict, "conflict topic config setting min.compaction.lag.ms (100) > max.compaction.lag.ms (10)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateTopicConfigs(tt.in)
			if tt.kind == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			var ce *Error
			if !errors.As(err, &ce) || ce.Key != tt.key || !errors.Is(err, tt.kind) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("err = %v, want %v for %s containing %q", err, tt.kind, tt.key, tt.msg)
			}
		})
	}
}

func TestResolveTopicCrossBroker(t *testing.T) {
	b := mustLoad(t, map[string]string{"log.cleaner.max.compaction.lag.ms": "50"})
	if _, err := ResolveTopic(b, map[string]string{"min.compaction.lag.ms": "60"}); !errors.Is(err, ErrConflict) {
		t.Errorf("lag against broker max: err = %v", err)
	}
	if _, err := ResolveTopic(b, map[string]string{"remote.storage.enable": "true"}); err == nil || !strings.Contains(err.Error(), "Tiered Storage") {
		t.Errorf("remote storage: err = %v", err)
	}
}
