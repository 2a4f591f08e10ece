package e2e

import (
	"context"
	"strconv"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestExactlyOnceConfluentTransform: confluent-kafka consume-transform-
// produce (testdata/ck_eos.py): 3,000 input records copied to an output
// topic in transactions of at most 100 input records, each carrying its
// consumer offsets (send_offsets_to_transaction); every 4th transaction
// is aborted on purpose, after its records were written, and its
// records are processed again. A
// read_committed reader of the output finds every input exactly once;
// the aborted copies are in the log (read_uncommitted sees them); the
// group's committed offsets are the input's end offsets.
func TestExactlyOnceConfluentTransform(t *testing.T) {
	t.Parallel()
	b := startBroker(t, "group.initial.rebalance.delay.ms=0")
	const in, out, group, partitions, count = "eos-in", "eos-out", "eos", 3, 3000
	makeTopic(t, b, in, partitions)
	makeTopic(t, b, out, partitions)
	produceValues(t, b, in, partitions, valueRange("", 0, count))

	var res struct{ Commits, Aborts, Processed int }
	runScript(t, "ck_eos.py", &res, b.Addr, in, out, group, "eos-transform", strconv.Itoa(count), "100", "4")
	if res.Processed != count || res.Aborts == 0 {
		t.Fatalf("transform committed %d of %d records with %d aborts", res.Processed, count, res.Aborts)
	}

	committed := readToSentinels(t, b, out, partitions, kgo.ReadCommitted())
	if diffs := exactlyOnceDiff(countValues(committed), valueRange("t-", 0, count), 5); len(diffs) > 0 {
		t.Fatalf("read_committed output is not every input exactly once: %q", diffs)
	}
	for p, vs := range committed {
		for _, v := range vs {
			if i, _ := strconv.Atoi(v[2:]); int32(i)%partitions != p {
				t.Fatalf("%s in output partition %d, its input was in partition %d", v, p, int32(i)%partitions)
			}
		}
	}
	all := readToSentinels(t, b, out, partitions, kgo.ReadUncommitted())
	total := 0
	for _, vs := range all {
		total += len(vs)
	}
	if total <= count {
		t.Errorf("read_uncommitted output holds %d records, want more than %d (the aborted copies)", total, count)
	}

	ctx, cancel := context.WithTimeout(context.Background(), deliveryTimeout)
	defer cancel()
	adm := newAdmin(t, b)
	ends, err := adm.ListEndOffsets(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	offs, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	ends.Each(func(e kadm.ListedOffset) {
		o, ok := offs.Lookup(in, e.Partition)
		if !ok || o.Err != nil || o.At != e.Offset {
			t.Errorf("group %s committed %+v on %s/%d, want the end offset %d", group, o, in, e.Partition, e.Offset)
		}
	})
	t.Logf("%d records exactly once through %d committed and %d aborted transactions; %d in the output log counting aborted ones",
		count, res.Commits, res.Aborts, total)
}
