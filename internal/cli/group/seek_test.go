package group

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/sluice-io/sluice/internal/cli/clientcmd"
	"github.com/sluice-io/sluice/internal/cli/clientcmd/clientcmdtest"
	"github.com/sluice-io/sluice/internal/node/nodetest"
)

// TestSeekTargets: every --to form commits Kafka's reset-offsets answer
// for a group that does not exist yet (seek creates its offsets).
func TestSeekTargets(t *testing.T) {
	n, cfg := cluster(t)
	ctx := testContext(t)
	adm := nodetest.Admin(t, n)
	if _, err := adm.CreateTopic(ctx, 2, 1, nil, "times"); err != nil {
		t.Fatal(err)
	}
	base := time.UnixMilli(1_700_000_000_000)
	produce(t, n, "times", 2, 10, func(i int) time.Time { return base.Add(time.Duration(i) * time.Second) })
	tests := []struct {
		name string
		args []string
		want map[int32]int64 // committed offset per partition afterwards
		warn string          // on stderr
	}{
		{"end", []string{"--to", "end"}, map[int32]int64{0: 10, 1: 10}, ""},
		{"start", []string{"--to", "start"}, map[int32]int64{0: 0, 1: 0}, ""},
		{"offset", []string{"--to", "4"}, map[int32]int64{0: 4, 1: 4}, ""},
		{"offset clamped", []string{"--to", "100"}, map[int32]int64{0: 10, 1: 10}, "past the log end offset 10; using 10"},
		{"millis", []string{"--to", "@1700000004500"}, map[int32]int64{0: 5, 1: 5}, ""},
		{"rfc3339", []string{"--to", "@" + base.Add(2*time.Second).UTC().Format(time.RFC3339)}, map[int32]int64{0: 2, 1: 2}, ""},
		{"after the last record", []string{"--to", "@1800000000000"}, map[int32]int64{0: 10, 1: 10}, ""},
		{"one partition", []string{"--to", "start", "--partition", "1"}, map[int32]int64{0: 10, 1: 0}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := clientcmdtest.Run(t, cfg, New, "", append([]string{"seek", "replay", "--topic", "times"}, tt.args...)...)
			if r.Err != nil {
				t.Fatalf("seek %v: %v\n%s", tt.args, r.Err, r.Stdout)
			}
			if !strings.Contains(r.Stderr, tt.warn) || (tt.warn == "" && r.Stderr != "") {
				t.Errorf("stderr %q, want %q", r.Stderr, tt.warn)
			}
			got, err := adm.FetchOffsets(ctx, "replay")
			if err != nil {
				t.Fatal(err)
			}
			for p, want := range tt.want {
				if o, ok := got.Lookup("times", p); !ok || o.At != want {
					t.Errorf("partition %d committed at %+v, want %d\n%s", p, o, want, r.Stdout)
				}
			}
		})
	}
}

func TestGroupErrors(t *testing.T) {
	n, cfg := cluster(t)
	if _, err := nodetest.Admin(t, n).CreateTopic(testContext(t), 2, 1, nil, "two"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		usage    bool     // a UsageError (exit 2)
		kafka    error    // the Kafka error wrapped, if any
		contains []string // in the error message
	}{
		{"describe unknown", []string{"describe", "nope"}, false, kerr.GroupIDNotFound, []string{`group "nope" does not exist`, "sluice group list"}},
		{"delete unknown", []string{"delete", "nope"}, false, kerr.GroupIDNotFound, []string{`group "nope" does not exist`}},
		{"seek unknown topic", []string{"seek", "g", "--topic", "nope", "--to", "start"}, false, kerr.UnknownTopicOrPartition, []string{`topic "nope" does not exist`}},
		{"seek bad partition", []string{"seek", "g", "--topic", "two", "--to", "start", "-p", "7"}, true, nil, []string{"--partition 7", "has 2 partitions"}},
		{"seek without topic", []string{"seek", "g", "--to", "start"}, true, nil, []string{"--topic is required"}},
		{"seek without to", []string{"seek", "g", "--topic", "two"}, true, nil, []string{"--to is required"}},
		{"seek bad to", []string{"seek", "g", "--topic", "two", "--to", "middle"}, true, nil, []string{`--to "middle"`, "start, end"}},
		{"seek bad timestamp", []string{"seek", "g", "--topic", "two", "--to", "@yesterday"}, true, nil, []string{"Unix milliseconds", "RFC 3339"}},
		{"list bad state", []string{"list", "--state", "sleepy"}, true, nil, []string{`--state "sleepy"`, "Stable"}},
		{"list bad type", []string{"list", "--type", "x"}, true, nil, []string{`--type "x"`, "classic"}},
		{"describe no group", []string{"describe"}, true, nil, []string{"one group id"}},
		{"delete no group", []string{"delete"}, true, nil, []string{"at least one group id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := clientcmdtest.Run(t, cfg, New, "", tt.args...)
			if r.Err == nil {
				t.Fatalf("no error; stdout:\n%s", r.Stdout)
			}
			if got := clientcmd.IsUsage(r.Err); got != tt.usage {
				t.Errorf("IsUsage = %v, want %v (%v)", got, tt.usage, r.Err)
			}
			if tt.kafka != nil && !errors.Is(r.Err, tt.kafka) {
				t.Errorf("error %v does not wrap %v", r.Err, tt.kafka)
			}
			for _, s := range tt.contains {
				if !strings.Contains(r.Err.Error(), s) {
					t.Errorf("error %q lacks %q", r.Err, s)
				}
			}
		})
	}
}
