package bench

import (
	"reflect"
	"testing"
	"time"

	"github.com/spf13/cobra"

	engine "github.com/sluice-io/sluice/internal/bench"
	"github.com/sluice-io/sluice/internal/cli/clientcmd"
)

// parse builds the command of mode, parses args and returns the spec.
func parse(t *testing.T, mode engine.Mode, args ...string) (engine.Spec, error) {
	t.Helper()
	cfg := &clientcmd.Config{Brokers: func() []string { return nil }}
	var c *cobra.Command
	var o *options
	switch mode {
	case engine.ModeProduce:
		c, o = newProduce(cfg)
	case engine.ModeConsume:
		c, o = newConsume(cfg)
	default:
		c, o = newE2E(cfg)
	}
	if err := c.ParseFlags(args); err != nil {
		t.Fatalf("parse %v: %v", args, err)
	}
	return o.spec()
}

func TestFlagsToSpec(t *testing.T) {
	tests := []struct {
		name  string
		mode  engine.Mode
		args  []string
		check func(t *testing.T, s engine.Spec)
	}{
		{"produce defaults", engine.ModeProduce, nil, func(t *testing.T, s engine.Spec) {
			want := engine.Spec{Mode: engine.ModeProduce, Topic: "sluice-bench", Partitions: 1, Records: 1_000_000,
				RecordSize: 1024, Producers: 1, Acks: engine.AcksAll, Idempotent: true, Compression: "none",
				Linger: 5 * time.Millisecond, BatchMaxBytes: 1000012, DrainTimeout: 10 * time.Second}
			if !reflect.DeepEqual(s, want) {
				t.Errorf("got  %+v\nwant %+v", s, want)
			}
		}},
		{"acks 1 turns idempotence off", engine.ModeProduce, []string{"--acks", "1"}, func(t *testing.T, s engine.Spec) {
			if s.Acks != engine.AcksLeader || s.Idempotent {
				t.Errorf("acks %v idempotent %v", s.Acks, s.Idempotent)
			}
		}},
		{"idempotent=false with acks all", engine.ModeProduce, []string{"--idempotent=false"}, func(t *testing.T, s engine.Spec) {
			if s.Acks != engine.AcksAll || s.Idempotent {
				t.Errorf("acks %v idempotent %v", s.Acks, s.Idempotent)
			}
		}},
		{"duration replaces default records", engine.ModeProduce, []string{"--duration", "5s"}, func(t *testing.T, s engine.Spec) {
			if s.Records != 0 || s.Duration != 5*time.Second {
				t.Errorf("records %d duration %v", s.Records, s.Duration)
			}
		}},
		{"both records and duration", engine.ModeProduce, []string{"-n", "10", "-d", "1s"}, func(t *testing.T, s engine.Spec) {
			if s.Records != 10 || s.Duration != time.Second {
				t.Errorf("records %d duration %v", s.Records, s.Duration)
			}
		}},
		{"every produce flag", engine.ModeProduce, []string{"-t", "x", "-p", "6", "-s", "100", "--producers", "3",
			"--rate", "500", "--acks", "0", "-z", "zstd", "--linger", "0s", "--batch-max-bytes", "65536"}, func(t *testing.T, s engine.Spec) {
			want := engine.Spec{Mode: engine.ModeProduce, Topic: "x", Partitions: 6, Records: 1_000_000, RecordSize: 100,
				Producers: 3, Rate: 500, Acks: engine.AcksNone, Compression: "zstd", BatchMaxBytes: 65536, DrainTimeout: 10 * time.Second}
			if !reflect.DeepEqual(s, want) {
				t.Errorf("got  %+v\nwant %+v", s, want)
			}
		}},
		{"e2e defaults", engine.ModeE2E, nil, func(t *testing.T, s engine.Spec) {
			if s.Duration != 20*time.Second || s.Records != 0 || s.Rate != 10_000 {
				t.Errorf("duration %v records %d rate %v", s.Duration, s.Records, s.Rate)
			}
		}},
		{"e2e records replace default duration", engine.ModeE2E, []string{"-n", "2000"}, func(t *testing.T, s engine.Spec) {
			if s.Duration != 0 || s.Records != 2000 {
				t.Errorf("duration %v records %d", s.Duration, s.Records)
			}
		}},
		{"consume defaults read what is there", engine.ModeConsume, nil, func(t *testing.T, s engine.Spec) {
			if s.Records != 0 || s.Duration != 0 || s.Topic != "sluice-bench" {
				t.Errorf("records %d duration %v topic %q", s.Records, s.Duration, s.Topic)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := parse(t, tt.mode, tt.args...)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, s)
		})
	}
}

func TestFlagUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		mode engine.Mode
		args []string
	}{
		{"bad acks", engine.ModeProduce, []string{"--acks", "2"}},
		{"idempotent with acks 1", engine.ModeProduce, []string{"--acks", "1", "--idempotent"}},
		{"record too small", engine.ModeProduce, []string{"-s", "31"}},
		{"no partitions", engine.ModeProduce, []string{"-p", "0"}},
		{"no producers", engine.ModeProduce, []string{"--producers", "0"}},
		{"negative rate", engine.ModeE2E, []string{"--rate", "-1"}},
		{"bad compression", engine.ModeProduce, []string{"-z", "brotli"}},
		{"never ends", engine.ModeProduce, []string{"-n", "0"}},
		{"negative records", engine.ModeConsume, []string{"-n", "-1"}},
		{"empty topic", engine.ModeConsume, []string{"-t", ""}},
		{"tiny batches", engine.ModeProduce, []string{"--batch-max-bytes", "100"}},
		{"negative linger", engine.ModeProduce, []string{"--linger", "-1s"}},
		{"zero drain timeout", engine.ModeE2E, []string{"--drain-timeout", "0s"}},
		{"zero metadata age", engine.ModeProduce, []string{"--metadata-min-age", "0s"}},
		{"cluster too large", engine.ModeProduce, []string{"--cluster", "10"}},
		{"negative cluster", engine.ModeE2E, []string{"--cluster", "-1"}},
		{"kill without a cluster", engine.ModeE2E, []string{"--kill-after", "1s"}},
		{"kill the only node", engine.ModeProduce, []string{"--cluster", "1", "--kill-after", "1s"}},
		{"settings without a cluster", engine.ModeE2E, []string{"--cluster-set", "a=b"}},
		{"setting without a value", engine.ModeE2E, []string{"--cluster", "3", "--cluster-set", "sluice.write.caching"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(t, tt.mode, tt.args...)
			if !clientcmd.IsUsage(err) {
				t.Errorf("err = %v, want a UsageError", err)
			}
		})
	}
}
