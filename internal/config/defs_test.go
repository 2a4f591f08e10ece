package config

import (
	"errors"
	"strings"
	"testing"
)

func allDefs() []*Def { return append(append([]*Def{}, BrokerDefs()...), TopicDefs()...) }

// Every default must pass its own validator and already be in the form
// Kafka prints, or DescribeConfigs would report something else.
func TestDefaultsRoundTripValidators(t *testing.T) {
	for _, d := range allDefs() {
		t.Run(d.Name, func(t *testing.T) {
			if d.Doc == "" {
				t.Error("no doc")
			}
			if d.Type == TypeUnknown {
				t.Error("no type")
			}
			if d.Sensitive != (d.Type == TypePassword) {
				t.Errorf("sensitive=%v for type %v", d.Sensitive, d.Type)
			}
			if !d.HasDefault {
				if d.Default != "" {
					t.Errorf("default %q without HasDefault", d.Default)
				}
				return
			}
			if err := d.Check(d.Default); err != nil {
				t.Fatalf("default %q: %v", d.Default, err)
			}
			if c := d.Canonical(d.Default); c != d.Default {
				t.Errorf("default %q prints as %q", d.Default, c)
			}
		})
	}
}

func TestTopicDefsWiring(t *testing.T) {
	for _, d := range TopicDefs() {
		t.Run(d.Name, func(t *testing.T) {
			var tp Topic
			if !tp.set(d.Name, d.Default) {
				t.Error("Topic.set does not handle this key")
			}
			if d.Mode != ReadOnly {
				t.Error("topic keys carry no broker update mode")
			}
			for i, s := range d.Synonyms {
				bd, ok := BrokerDef(s)
				if !ok {
					t.Fatalf("synonym %s is not a broker key", s)
				}
				// Kafka's DynamicLogConfig: the first synonym of every
				// topic key is a cluster-wide dynamic broker key.
				if i == 0 && bd.Mode != ClusterWide {
					t.Errorf("first synonym %s is %v, want cluster-wide", s, bd.Mode)
				}
			}
		})
	}
}

func TestBrokerSynonymGroupsContainThemselves(t *testing.T) {
	for _, d := range BrokerDefs() {
		if d.Synonyms == nil {
			continue
		}
		found := false
		for _, s := range d.Synonyms {
			if s == d.Name {
				found = true
			}
			if _, ok := BrokerDef(s); !ok {
				t.Errorf("%s: synonym %s is not a broker key", d.Name, s)
			}
		}
		if !found {
			t.Errorf("%s: synonym group %v lacks the key itself", d.Name, d.Synonyms)
		}
	}
}

func TestCheckMessages(t *testing.T) {
	tests := []struct {
		key, value, want string
	}{
		{"num.partitions", "abc", "Invalid value abc for configuration num.partitions: Not a number of type INT"},
		{"num.partitions", "0", "Invalid value 0 for configuration num.partitions: Value must be at least 1"},
		{"num.partitions", "3000000000", "Not a number of type INT"},
		{"log.retention.ms", "1.5", "Not a number of type LONG"},
		{"offsets.topic.replication.factor", "40000", "Not a number of type SHORT"},
		{"auto.create.topics.enable", "yes", "Invalid value yes for configuration auto.create.topics.enable: Expected value to be either true or false"},
		{"log.cleaner.min.cleanable.ratio", "1.5", "Value must be no more than 1"},
		{"log.cleaner.min.cleanable.ratio", "NaN", "Not a number of type DOUBLE"},
		{"compression.type", "brotli", "Invalid value brotli for configuration compression.type: String must be one of: uncompressed, zstd, lz4, snappy, gzip, producer"},
		{"log.cleanup.policy", "delete,compactx", "Invalid value compactx for configuration log.cleanup.policy: String must be one of: compact, delete"},
		{"compression.gzip.level", "10", "Value must be in [1,...,9] or -1"},
		{"compression.lz4.level", "18", "Value must be no more than 17"},
		{"process.roles", "broker,broker", "Duplicate value broker"},
		{"process.roles", "", "Empty list is not allowed"},
		{"listeners", "PLAINTEXT:9092", "Unable to parse PLAINTEXT:9092 to a broker endpoint"},
		{"listeners", "PLAINTEXT://:99999", "must be in [0, 65535]"},
		{"listeners", "A://:1,a://:2", "A appears twice"},
		{"advertised.listeners", "PLAINTEXT://0.0.0.0:9092", "nonroutable meta-address 0.0.0.0"},
		{"listener.security.protocol.map", "A:TLS", "Unknown security protocol TLS"},
		{"controller.quorum.voters", "1@localhost", "Expected host:port"},
		{"controller.quorum.voters", "x@localhost:9093", "Expected id@host:port"},
		{"sluice.http.listener", "9644", "Expected host:port"},
		{"sluice.fsync.scope", "disk", "String must be one of: file, filesystem"},
		{"sluice.log.idle.close.ms", "0", "Value must be -1 or at least 1000"},
		{"sluice.log.idle.close.ms", "-2", "Value must be -1 or at least 1000"},
	}
	for _, tt := range tests {
		t.Run(tt.key+"="+tt.value, func(t *testing.T) {
			d, ok := BrokerDef(tt.key)
			if !ok {
				t.Fatalf("no def %s", tt.key)
			}
			err := d.Check(tt.value)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want containing %q", err, tt.want)
			}
			var ce *Error
			if !errors.As(err, &ce) || ce.Key != tt.key || !errors.Is(err, ErrInvalidValue) {
				t.Errorf("err %#v does not name key %s as ErrInvalidValue", err, tt.key)
			}
		})
	}
}

func TestCanonical(t *testing.T) {
	tests := []struct {
		typ     Type
		in, out string
	}{
		{TypeBoolean, " TRUE ", "true"},
		{TypeInt, "+5", "5"},
		{TypeLong, " 007 ", "7"},
		{TypeList, " compact ,  delete ", "compact,delete"},
		{TypeList, "  ", ""},
		{TypeString, "  x y  ", "x y"},
		{TypeDouble, "1", "1.0"},
		{TypeDouble, "0.50", "0.5"},
		{TypeDouble, "1e7", "1.0E7"},
		{TypeDouble, "0.0001", "1.0E-4"},
		{TypeDouble, "1.7976931348623157E308", "1.7976931348623157E308"},
		{TypeDouble, "123.25", "123.25"},
	}
	for _, tt := range tests {
		if got := canonical(tt.typ, tt.in); got != tt.out {
			t.Errorf("canonical(%v, %q) = %q, want %q", tt.typ, tt.in, got, tt.out)
		}
	}
}
