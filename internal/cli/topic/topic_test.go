package topic

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"go.uber.org/goleak"

	"github.com/sluice-io/sluice/internal/cli/clientcmd"
	"github.com/sluice-io/sluice/internal/cli/clientcmd/clientcmdtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// rows splits a table into rows of whitespace-separated cells.
func rows(out string) [][]string {
	var rs [][]string
	for line := range strings.Lines(out) {
		if f := strings.Fields(line); len(f) > 0 {
			rs = append(rs, f)
		}
	}
	return rs
}

// hasRow reports whether out has a row whose leading cells are want.
func hasRow(out string, want ...string) bool {
	for _, r := range rows(out) {
		if len(r) >= len(want) && strings.Join(r[:len(want)], " ") == strings.Join(want, " ") {
			return true
		}
	}
	return false
}

func TestTopicLifecycle(t *testing.T) {
	cfg := clientcmdtest.NewCluster(t)
	run := func(args ...string) string { return clientcmdtest.MustRun(t, cfg, New, "", args...) }

	out := run("create", "orders", "payments", "-p", "3", "-r", "1", "-c", "retention.ms=60000")
	if !hasRow(out, "orders", "OK") || !hasRow(out, "payments", "OK") {
		t.Fatalf("create output:\n%s", out)
	}
	if out := run("create", "dry", "--dry-run"); !hasRow(out, "dry", "OK", "(dry", "run:") {
		t.Fatalf("dry-run output:\n%s", out)
	}

	out = run("list")
	if !hasRow(out, "NAME", "PARTITIONS", "REPLICAS", "INTERNAL") || !hasRow(out, "orders", "3", "1", "false") || hasRow(out, "dry") {
		t.Fatalf("list output:\n%s", out)
	}
	var listed []listedTopic
	if err := json.Unmarshal([]byte(run("list", "--json")), &listed); err != nil {
		t.Fatalf("list --json: %v", err)
	}
	want := []listedTopic{{"orders", 3, 1, false}, {"payments", 3, 1, false}}
	if len(listed) != 2 || listed[0] != want[0] || listed[1] != want[1] {
		t.Fatalf("list --json = %+v, want %+v", listed, want)
	}

	out = run("describe", "orders")
	for _, w := range [][]string{
		{"SUMMARY"}, {"CONFIGS"}, {"retention.ms", "60000", "DYNAMIC_TOPIC_CONFIG"}, {"PARTITIONS"},
		{"0", "0", "0", "[0]", "[0]", "[]", "[]", "0", "0", "-"}, {"2", "0", "0", "[0]", "[0]", "[]", "[]", "0", "0", "-"},
	} {
		if !hasRow(out, w...) {
			t.Fatalf("describe lacks row %v:\n%s", w, out)
		}
	}

	run("alter-config", "orders", "--set", "cleanup.policy=compact", "--delete", "retention.ms")
	out = run("describe", "orders", "--print-configs")
	if !hasRow(out, "cleanup.policy", "compact", "DYNAMIC_TOPIC_CONFIG") || hasRow(out, "retention.ms") || hasRow(out, "PARTITIONS") {
		t.Fatalf("configs after alter-config:\n%s", out)
	}

	run("add-partitions", "orders", "--num", "5")
	out = run("describe", "orders", "--print-partitions")
	if !hasRow(out, "4", "0") || hasRow(out, "5", "0") || hasRow(out, "SUMMARY") {
		t.Fatalf("partitions after add-partitions --num 5:\n%s", out)
	}

	run("delete", "orders")
	if out := run("list"); hasRow(out, "orders") || !hasRow(out, "payments") {
		t.Fatalf("list after delete:\n%s", out)
	}
}

func TestTopicErrors(t *testing.T) {
	cfg := clientcmdtest.NewCluster(t, kfake.SeedTopics(2, "exists"))
	tests := []struct {
		name     string
		args     []string
		usage    bool     // a UsageError (exit 2)
		kafka    error    // the Kafka error wrapped, if any
		contains []string // in the error message
	}{
		{"create existing", []string{"create", "exists"}, false, kerr.TopicAlreadyExists, []string{`topic "exists" already exists`, "TOPIC_ALREADY_EXISTS"}},
		{"describe unknown", []string{"describe", "nope"}, false, kerr.UnknownTopicOrPartition, []string{`topic "nope" does not exist`, "sluice topic list"}},
		{"delete unknown", []string{"delete", "nope"}, false, kerr.UnknownTopicOrPartition, []string{`topic "nope" does not exist`}},
		{"alter unknown", []string{"alter-config", "nope", "--set", "retention.ms=1"}, false, kerr.UnknownTopicOrPartition, []string{`topic "nope" does not exist`}},
		{"add-partitions unknown", []string{"add-partitions", "nope", "-n", "4"}, false, kerr.UnknownTopicOrPartition, []string{`topic "nope" does not exist`}},
		{"shrink", []string{"add-partitions", "exists", "-n", "1"}, false, kerr.InvalidPartitions, []string{"INVALID_PARTITIONS"}},
		{"create zero partitions", []string{"create", "x", "-p", "0"}, true, nil, []string{"--partitions 0"}},
		{"create bad config", []string{"create", "x", "-c", "retention.ms"}, true, nil, []string{"--config", "key=value"}},
		{"create duplicate config", []string{"create", "x", "-c", "a=1", "-c", "a=2"}, true, nil, []string{`"a" given twice`}},
		{"create no name", []string{"create"}, true, nil, []string{"at least one topic name"}},
		{"describe two names", []string{"describe", "a", "b"}, true, nil, []string{"one topic name"}},
		{"alter nothing", []string{"alter-config", "exists"}, true, nil, []string{"--set", "--delete"}},
		{"alter set and delete", []string{"alter-config", "exists", "--set", "a=1", "--delete", "a"}, true, nil, []string{`--delete "a"`}},
		{"add-partitions without num", []string{"add-partitions", "exists"}, true, nil, []string{"--num 0"}},
		{"unknown verb", []string{"frobnicate"}, true, nil, []string{`unknown command "frobnicate"`}},
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
