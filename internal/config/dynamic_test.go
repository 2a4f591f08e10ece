package config

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateBrokerAlter(t *testing.T) {
	b := mustLoad(t, map[string]string{"log.cleaner.min.compaction.lag.ms": "100"})
	tests := []struct {
		name      string
		perBroker bool
		layer     map[string]string
		key       string
		kind      error
		msg       string
	}{
		{"cluster-wide key per broker", true, map[string]string{"log.retention.ms": "1000", "sluice.write.caching": "true"}, "", nil, ""},
		{"cluster-wide key as default", false, map[string]string{"message.max.bytes": "2000000"}, "", nil, ""},
		{"unknown keys are stored, as Kafka does", true, map[string]string{"log.retention.msx": "1"}, "", nil, ""},
		{"unknown key as default", false, map[string]string{"custom.key": "x"}, "", nil, ""},
		{"read-only", false, map[string]string{"num.partitions": "3", "log.retention.hours": "1", "min.insync.replicas": "2"}, "log.retention.hours", ErrNotDynamic, "Cannot update these configs dynamically: [log.retention.hours, num.partitions]"},
		{"invalid value", true, map[string]string{"min.insync.replicas": "0"}, "min.insync.replicas", ErrInvalidValue, "Invalid value 0 for configuration min.insync.replicas"},
		{"conflict with static", false, map[string]string{"log.cleaner.max.compaction.lag.ms": "50"}, "min.compaction.lag.ms", ErrConflict, "conflict topic config setting"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateBrokerAlter(b, tt.perBroker, tt.layer)
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

func TestPerBrokerOnlyKeysRefusedAsDefault(t *testing.T) {
	// No table key is per-broker today; prove the rule with a local def.
	brokerTable.index["test.per.broker"] = &Def{Name: "test.per.broker", Type: TypeInt, Mode: PerBroker, Doc: "test"}
	defer delete(brokerTable.index, "test.per.broker")
	err := ValidateBrokerAlter(Default(), false, map[string]string{"test.per.broker": "1"})
	if !errors.Is(err, ErrNotDynamic) || !strings.Contains(err.Error(), "broker id must be specified") {
		t.Fatalf("err = %v", err)
	}
	if err := ValidateBrokerAlter(Default(), true, map[string]string{"test.per.broker": "1"}); err != nil {
		t.Fatalf("per broker: %v", err)
	}
}

func TestWithDynamic(t *testing.T) {
	b := mustLoad(t, map[string]string{"message.max.bytes": "1000", "log.retention.hours": "2"})
	nb, warns := b.WithDynamic(
		map[string]string{"message.max.bytes": "2000", "num.partitions": "9", "bogus": "1", "min.insync.replicas": "x"},
		map[string]string{"message.max.bytes": "3000", "log.retention.ms": "60000", "log.cleanup.policy": "compact"},
	)
	if len(warns) != 3 {
		t.Errorf("warnings = %v", warns)
	}
	if nb.MessageMaxBytes != 2000 || nb.NumPartitions != 1 {
		t.Errorf("MessageMaxBytes=%d NumPartitions=%d", nb.MessageMaxBytes, nb.NumPartitions)
	}
	td := nb.TopicDefaults()
	if td.RetentionMs != 60000 || !td.Compact() || td.MaxMessageBytes != 2000 {
		t.Errorf("topic defaults = %+v", td)
	}
	if b.MessageMaxBytes != 1000 || b.TopicDefaults().RetentionMs != 2*3600000 {
		t.Error("WithDynamic changed the original broker")
	}
	if got := nb.PerBrokerDynamic(); len(got) != 1 || got["message.max.bytes"] != "2000" {
		t.Errorf("PerBrokerDynamic = %v", got)
	}
	if got := nb.ClusterDefaultDynamic(); len(got) != 3 {
		t.Errorf("ClusterDefaultDynamic = %v", got)
	}
	// Layers that break a cross-key rule keep the old broker.
	kept, warns := b.WithDynamic(nil, map[string]string{"log.cleaner.min.compaction.lag.ms": "10", "log.cleaner.max.compaction.lag.ms": "5"})
	if kept != b || len(warns) != 1 || warns[0].Key != "min.compaction.lag.ms" {
		t.Errorf("conflict: kept=%v warns=%v", kept == b, warns)
	}
}

func TestApplyIncremental(t *testing.T) {
	cleanup, _ := TopicDef("cleanup.policy")
	retention, _ := TopicDef("retention.ms")
	tests := []struct {
		name  string
		start map[string]string
		def   *Def
		op    Op
		value string
		want  map[string]string
		err   error
	}{
		{"set", map[string]string{}, retention, OpSet, "5", map[string]string{"retention.ms": "5"}, nil},
		{"delete", map[string]string{"retention.ms": "5"}, retention, OpDelete, "", map[string]string{}, nil},
		{"append from default", map[string]string{}, cleanup, OpAppend, "compact", map[string]string{"cleanup.policy": "delete,compact"}, nil},
		{"append present", map[string]string{"cleanup.policy": "compact"}, cleanup, OpAppend, "compact", map[string]string{"cleanup.policy": "compact"}, nil},
		{"subtract", map[string]string{"cleanup.policy": "compact,delete"}, cleanup, OpSubtract, "delete", map[string]string{"cleanup.policy": "compact"}, nil},
		{"subtract to empty", map[string]string{}, cleanup, OpSubtract, "delete", map[string]string{"cleanup.policy": ""}, nil},
		{"append non-list", map[string]string{}, retention, OpAppend, "5", map[string]string{}, ErrInvalidRequest},
		{"unknown op", map[string]string{}, retention, Op(9), "5", map[string]string{}, ErrInvalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ApplyIncremental(tt.start, tt.def, tt.op, tt.value)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if len(tt.start) != len(tt.want) {
				t.Fatalf("layer = %v, want %v", tt.start, tt.want)
			}
			for k, v := range tt.want {
				if tt.start[k] != v {
					t.Errorf("layer = %v, want %v", tt.start, tt.want)
				}
			}
		})
	}
}
