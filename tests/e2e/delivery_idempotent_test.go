package e2e

import (
	"slices"
	"strconv"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestIdempotentRetryAfterLostAnswer: confluent-kafka with
// enable.idempotence=True sends 5,000 records to one partition through a
// proxy that loses the broker's answer to the 3rd and the 40th produce
// requests after the broker appended them (lossyProxy). librdkafka sees
// its connection drop and sends the same batches (same producer id, epoch
// and sequence) again on a new one; the broker recognizes the retries as
// duplicates and answers with the original offsets. Every record is
// stored exactly once, in order, at the offset its delivery report gave.
func TestIdempotentRetryAfterLostAnswer(t *testing.T) {
	t.Parallel()
	proxy := newLossyProxy(t, 3, 40)
	b := startBroker(t, "advertised.listeners=PLAINTEXT://"+proxy.Addr())
	proxy.serve(b.Addr)
	const topic, count = "idempotent", 5000
	makeTopic(t, b, topic, 1)
	var res struct {
		Acked   int      `json:"acked"`
		Left    int      `json:"left"`
		Errors  []string `json:"errors"`
		Fatal   []string `json:"fatal"`
		Offsets []int64  `json:"offsets"`
	}
	runScript(t, "ck_idempotent.py", &res, proxy.Addr(), topic, strconv.Itoa(count))
	if res.Acked != count || res.Left != 0 || len(res.Errors) > 0 || len(res.Fatal) > 0 {
		t.Fatalf("%d of %d acknowledged, %d left; errors %.5q; fatal %q", res.Acked, count, res.Left, res.Errors, res.Fatal)
	}
	for i, o := range res.Offsets {
		if o != int64(i) {
			t.Fatalf("value %d acknowledged at offset %d, want %d", i, o, i)
		}
	}

	batches, lost := proxy.snapshot()
	if len(lost) != 2 {
		t.Fatalf("the proxy lost %d answers, want 2 (produce requests seen: %d batches)", len(lost), len(batches))
	}
	for _, la := range lost {
		if len(la.batches) != 1 {
			t.Fatalf("lost answer covers %d batches, want 1", len(la.batches))
		}
		id := la.batches[0]
		// Values are their offsets and sequences start at 0: an appended
		// batch answers with its base sequence as base offset.
		if la.errorCode != 0 || la.baseOffset != int64(id.BaseSequence) {
			t.Fatalf("lost answer to batch %+v: error %d, base offset %d; want it appended at %d", id, la.errorCode, la.baseOffset, id.BaseSequence)
		}
		if n := countBatch(batches, id); n < 2 {
			t.Fatalf("batch %+v went to the broker %d times: librdkafka did not retry it", id, n)
		}
	}
	stored := readToSentinels(t, b, topic, 1, kgo.ReadUncommitted())
	if want := valueRange("", 0, count); !slices.Equal(stored[0], want) {
		diffs := exactlyOnceDiff(countValues(stored), want, 5)
		t.Fatalf("stored %d records, want 0..%d once each in order: %q", len(stored[0]), count-1, diffs)
	}
	t.Logf("%d produce batches through the proxy; answers lost to %+v and %+v, retried, stored once",
		len(batches), lost[0].batches[0], lost[1].batches[0])
}

// countBatch counts how often id went to the broker.
func countBatch(batches []batchID, id batchID) int {
	n := 0
	for _, b := range batches {
		if b == id {
			n++
		}
	}
	return n
}
