package clientcmd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestResolveBrokers(t *testing.T) {
	def := []string{"localhost:9092"}
	tests := []struct {
		name    string
		flag    []string
		flagSet bool
		env     string
		want    []string
	}{
		{"default", def, false, "", def},
		{"env when flag unset", def, false, "a:1, b:2", []string{"a:1", "b:2"}},
		{"blank env ignored", def, false, "  ", def},
		{"flag wins over env", []string{"c:3"}, true, "a:1", []string{"c:3"}},
		{"flag items split", []string{"a:1,b:2", " c:3 ", ""}, true, "", []string{"a:1", "b:2", "c:3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := func(k string) string {
				if k == BrokersEnv {
					return tt.env
				}
				return ""
			}
			if got := ResolveBrokers(tt.flag, tt.flagSet, getenv); !slices.Equal(got, tt.want) {
				t.Errorf("ResolveBrokers = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseKeyValue(t *testing.T) {
	tests := []struct {
		in, key, value string
		ok             bool
	}{
		{"a=b", "a", "b", true},
		{"a=", "a", "", true},
		{"a=b=c", "a", "b=c", true},
		{"retention.ms=1000", "retention.ms", "1000", true},
		{"a", "", "", false},
		{"=b", "", "", false},
		{"", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			k, v, err := ParseKeyValue("--config", tt.in)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok=%v", err, tt.ok)
			}
			if err != nil {
				if !IsUsage(err) || !strings.Contains(err.Error(), "--config") {
					t.Errorf("error %v: want a UsageError naming --config", err)
				}
				return
			}
			if k != tt.key || v != tt.value {
				t.Errorf("got %q=%q, want %q=%q", k, v, tt.key, tt.value)
			}
		})
	}
}

func TestParseConfigs(t *testing.T) {
	got, err := ParseConfigs("-c", []string{"a=1", "b=x=y", "c="})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "map[a:1 b:x=y c:]" {
		t.Errorf("ParseConfigs = %v", got)
	}
	if _, err := ParseConfigs("-c", []string{"a=1", "a=2"}); !IsUsage(err) {
		t.Errorf("duplicate key: err = %v, want a UsageError", err)
	}
}

func TestUnescape(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{`plain`, "plain", true},
		{`%v\n`, "%v\n", true},
		{`a\tb\r\n`, "a\tb\r\n", true},
		{`\\n`, `\n`, true},
		{`nul\0`, "nul\x00", true},
		{`bad\q`, "", false},
		{`trailing\`, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Unescape("--format", tt.in)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !IsUsage(err) {
				t.Errorf("error %v is not a UsageError", err)
			}
			if got != tt.want {
				t.Errorf("Unescape(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestHeaders(t *testing.T) {
	tests := []struct {
		text string
		want []kgo.RecordHeader
		ok   bool
	}{
		{"", nil, true},
		{"a=1", []kgo.RecordHeader{{Key: "a", Value: []byte("1")}}, true},
		{"a=1;b=;c=x=y", []kgo.RecordHeader{{Key: "a", Value: []byte("1")}, {Key: "b", Value: []byte{}}, {Key: "c", Value: []byte("x=y")}}, true},
		{"a", nil, false},
		{"=1", nil, false},
		{"a=1;;b=2", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			got, err := ParseHeaders(nil, []byte(tt.text))
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok=%v", err, tt.ok)
			}
			if !tt.ok {
				return
			}
			if !slices.EqualFunc(got, tt.want, func(a, b kgo.RecordHeader) bool {
				return a.Key == b.Key && string(a.Value) == string(b.Value)
			}) {
				t.Errorf("ParseHeaders = %v, want %v", got, tt.want)
			}
			if back := string(AppendHeaders(nil, got)); back != tt.text {
				t.Errorf("AppendHeaders(ParseHeaders(%q)) = %q", tt.text, back)
			}
		})
	}
}

func TestTopicError(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		msg      string
		contains []string
	}{
		{"unknown", kerr.UnknownTopicOrPartition, "", []string{`topic "t" does not exist`, "UNKNOWN_TOPIC_OR_PARTITION", "sluice topic list"}},
		{"exists", kerr.TopicAlreadyExists, "", []string{`topic "t" already exists`, "TOPIC_ALREADY_EXISTS", "sluice topic describe t"}},
		{"broker message", kerr.InvalidConfig, "retention.ms must be a number", []string{`topic "t": INVALID_CONFIG`, "(retention.ms must be a number)"}},
		{"not kafka", errors.New("boom"), "", []string{`topic "t": boom`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := TopicError("t", tt.err, tt.msg)
			if !errors.Is(err, tt.err) {
				t.Errorf("%v does not wrap %v", err, tt.err)
			}
			for _, s := range tt.contains {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("%q lacks %q", err, s)
				}
			}
		})
	}
	if TopicError("t", nil, "x") != nil {
		t.Error("TopicError(nil) != nil")
	}
}

func TestStatus(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want string
	}{
		{nil, "OK"},
		{kerr.InvalidPartitions, "INVALID_PARTITIONS"},
		{TopicError("t", kerr.UnknownTopicOrPartition, ""), "UNKNOWN_TOPIC_OR_PARTITION"},
		{errors.New("x"), "FAILED"},
	} {
		if got := Status(tt.err, "OK"); got != tt.want {
			t.Errorf("Status(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

func TestNewClientUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	cfg := &Config{Brokers: func() []string { return []string{addr} }}
	_, err = cfg.NewClient(context.Background())
	if err == nil {
		t.Fatal("NewClient to a closed port succeeded")
	}
	for _, s := range []string{"cannot reach the cluster at " + addr, "is `sluice serve` running?", "--brokers host:port"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("%q lacks %q", err, s)
		}
	}
	empty := &Config{Brokers: func() []string { return nil }}
	if _, err := empty.NewClient(context.Background()); !IsUsage(err) {
		t.Errorf("no brokers: err = %v, want a UsageError", err)
	}
}
