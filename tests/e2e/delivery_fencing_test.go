package e2e

import (
	"slices"
	"strings"
	"testing"
)

// fencedErrors are the names librdkafka gives a fenced transactional
// producer's failures: its own fatal _FENCED, or the broker's codes.
var fencedErrors = []string{"_FENCED", "PRODUCER_FENCED", "INVALID_PRODUCER_EPOCH"}

// TestTransactionalFencing: a second confluent-kafka producer with the
// same transactional.id fences the first (testdata/ck_fence.py). The
// first's open transaction is aborted. What the first writes afterwards
// to a partition of that transaction reaches the broker and fails with
// INVALID_PRODUCER_EPOCH; librdkafka then refuses further records (_FENCED,
// _FATAL) or drops them unsent (_PURGE_QUEUE); its commit_transaction
// fails with a fatal fencing error; none of those records is stored. A
// read_committed consumer sees exactly the first producer's earlier
// commit and the second's.
func TestTransactionalFencing(t *testing.T) {
	t.Parallel()
	b := startBroker(t)
	const topic = "fencing"
	makeTopic(t, b, topic, 2)
	var res struct {
		DeliveryErrors []string `json:"delivery_errors"`
		ProduceErrors  []string `json:"produce_errors"`
		CommitError    *string  `json:"commit_error"`
		CommitFatal    bool     `json:"commit_fatal"`
		FatalErrors    []string `json:"fatal_errors"`
	}
	runScript(t, "ck_fence.py", &res, b.Addr, topic)
	if res.CommitError == nil || !slices.Contains(fencedErrors, *res.CommitError) || !res.CommitFatal {
		t.Fatalf("fenced producer's commit_transaction: error %v, fatal %v; want a fatal one of %v (results %+v)",
			res.CommitError, res.CommitFatal, fencedErrors, res)
	}
	// The records to partition 0 went to the broker with the old epoch.
	if !slices.Contains(res.DeliveryErrors, "INVALID_PRODUCER_EPOCH") && !slices.Contains(res.DeliveryErrors, "PRODUCER_FENCED") {
		t.Errorf("the broker accepted or never answered the fenced producer's records: delivery errors %v", res.DeliveryErrors)
	}
	for _, e := range slices.Concat(res.DeliveryErrors, res.ProduceErrors, res.FatalErrors) {
		// _FATAL, _PURGE_QUEUE: records librdkafka refused or dropped
		// unsent once it knew.
		if !slices.Contains(fencedErrors, e) && e != "_FATAL" && e != "_PURGE_QUEUE" {
			t.Errorf("fenced producer got %s, want one of %v, _FATAL or _PURGE_QUEUE", e, fencedErrors)
		}
	}

	want := map[string][]string{
		"0": {"p1-before-0", "p1-before-1", "p1-before-2", "p1-before-3", "p1-before-4", "p2-0", "p2-2", "p2-4"},
		"1": {"p2-1", "p2-3"},
	}
	var committed, all struct{ Values map[string][]string }
	runScript(t, "ck_read.py", &committed, b.Addr, topic, "read_committed")
	runScript(t, "ck_read.py", &all, b.Addr, topic, "read_uncommitted")
	for _, p := range []string{"0", "1"} {
		if !slices.Equal(committed.Values[p], want[p]) {
			t.Errorf("read_committed partition %s: %q, want %q", p, committed.Values[p], want[p])
		}
		for _, v := range all.Values[p] {
			if strings.HasPrefix(v, "p1-after-") {
				t.Errorf("partition %s stores %s, written by the fenced producer", p, v)
			}
		}
	}
	if open := countPrefix(all.Values["0"], "p1-open-"); open != 5 {
		t.Errorf("partition 0 stores %d of the fenced producer's 5 aborted records, want all 5 (aborted, not removed)", open)
	}
	t.Logf("fenced producer: commit %s (fatal), delivery errors %v, produce errors %v", *res.CommitError, res.DeliveryErrors, res.ProduceErrors)
}

func countPrefix(vs []string, prefix string) int {
	n := 0
	for _, v := range vs {
		if strings.HasPrefix(v, prefix) {
			n++
		}
	}
	return n
}
