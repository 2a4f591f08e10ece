package integration

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"

	"github.com/sluice-io/sluice/internal/node"
	"github.com/sluice-io/sluice/internal/node/nodetest"
)

// TestCompactionDropsAbortedTransactions (issue 13, defect 2): on a
// compacted topic, committed K=v1, then a transaction writes K=v2 and
// stays open while more than two segments of other keys follow. The
// broker's cleaner (every 20 ms) must not clean at or past the open
// transaction (its last stable offset); once the transaction aborts and
// the cleaner ran past its marker, read_committed and read_uncommitted
// consumers read K=v1 and never v2, before and after a restart.
func TestCompactionDropsAbortedTransactions(t *testing.T) {
	const topic = "txn-compacted"
	r := nodetest.StartRestartable(t, func(o *node.Options) { o.CleanerInterval = 20 * time.Millisecond })
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cfg := map[string]*string{
		"cleanup.policy": ptrTo("compact"), "segment.bytes": ptrTo("1048576"), "min.cleanable.dirty.ratio": ptrTo("0.01"),
	}
	if _, err := nodetest.Admin(t, r.Node).CreateTopic(ctx, 1, 1, cfg, topic); err != nil {
		t.Fatal(err)
	}
	plain := nodetest.Client(t, r.Node, kgo.DefaultProduceTopic(topic))
	produceKV(ctx, t, plain, "K", "v1")
	txn := nodetest.Client(t, r.Node, kgo.DefaultProduceTopic(topic), kgo.TransactionalID("compaction-txn"))
	if err := txn.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	produceKV(ctx, t, txn, "K", "v2-aborted")
	fillSegments(ctx, t, plain, "open")

	time.Sleep(time.Second) // some 50 cleaner rounds with the transaction open
	produceKV(ctx, t, plain, "end", "x")
	if got := valuesOf(consumeAll(ctx, t, r.Node, topic, kgo.ReadUncommitted()), "K"); !slices.Equal(got, []string{"v1", "v2-aborted"}) {
		t.Fatalf("K while its transaction is open: %q, want both records (nothing cleaned at or past the LSO)", got)
	}

	if err := txn.EndTransaction(ctx, kgo.TryAbort); err != nil {
		t.Fatal(err)
	}
	aborted := endOffset(ctx, t, nodetest.Admin(t, r.Node), topic) // the ABORT marker lies below
	fillSegments(ctx, t, plain, "after")
	waitCleaned(ctx, t, []string{filepath.Join(r.Dir(), topic+"-0")}, aborted)
	check := func(n *node.Node, when string) {
		t.Helper()
		produceKV(ctx, t, nodetest.Client(t, n, kgo.DefaultProduceTopic(topic)), "end", when)
		for _, iso := range []kgo.IsolationLevel{kgo.ReadCommitted(), kgo.ReadUncommitted()} {
			if got := valuesOf(consumeAll(ctx, t, n, topic, iso), "K"); !slices.Equal(got, []string{"v1"}) {
				t.Errorf("%s, isolation %v: K = %q, want [v1]", when, iso, got)
			}
		}
	}
	check(r.Node, "after cleaning")
	check(r.Restart(), "after a restart")
}

// TestConsumerOffsetsCompactionKeepsCommittedOffset (issue 13, defect 2):
// a group commits offset X, then a TxnOffsetCommit of Y for the same
// partition is aborted. Once __consumer_offsets (1 MiB segments:
// offsets.topic.segment.bytes) rolled and was cleaned, OffsetFetch still
// answers X, and so does a restarted broker, which rebuilds the group
// from the cleaned log.
func TestConsumerOffsetsCompactionKeepsCommittedOffset(t *testing.T) {
	const group, in, filler = "compaction-group", "offsets-in", "offsets-filler"
	const committed, abortedAt = 5, 7
	r := nodetest.StartRestartable(t, func(o *node.Options) {
		o.CleanerInterval = 20 * time.Millisecond
		o.Groups.OffsetsTopicSegmentBytes = 1 << 20
	})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	adm := nodetest.Admin(t, r.Node)
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, in); err != nil {
		t.Fatal(err)
	}
	if _, err := adm.CreateTopic(ctx, 8, 1, nil, filler); err != nil {
		t.Fatal(err)
	}
	var x kadm.Offsets
	x.Add(kadm.Offset{Topic: in, Partition: 0, At: committed, LeaderEpoch: -1})
	if err := adm.CommitAllOffsets(ctx, group, x); err != nil {
		t.Fatal(err)
	}

	// txnOffsetCommit's raw request names the topic, as v0-5 do (v6 names
	// topics by id).
	versions := kversion.Stable()
	versions.SetMaxKeyVersion(kmsg.TxnOffsetCommit.Int16(), 5)
	cl := nodetest.Client(t, r.Node, kgo.DefaultProduceTopic(in), kgo.TransactionalID("offsets-txn"), kgo.MaxVersions(versions))
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	produceKV(ctx, t, cl, "k", "in the aborted transaction")
	txnOffsetCommit(ctx, t, cl, "offsets-txn", group, in, abortedAt)
	if err := cl.EndTransaction(ctx, kgo.TryAbort); err != nil {
		t.Fatal(err)
	}
	checkOffset(ctx, t, adm, group, in, committed, "after the abort")

	// Past one segment of other commits (4,000-byte metadata), so the
	// segment holding X, Y and the marker is cleanable.
	var fill kadm.Offsets
	for p := range int32(8) {
		fill.Add(kadm.Offset{Topic: filler, Partition: p, At: 1, LeaderEpoch: -1, Metadata: strings.Repeat("m", 4000)})
	}
	for range 40 {
		if err := adm.CommitAllOffsets(ctx, group, fill); err != nil {
			t.Fatal(err)
		}
	}
	dirs, err := filepath.Glob(filepath.Join(r.Dir(), "__consumer_offsets-*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("__consumer_offsets partitions: %v %v", dirs, err)
	}
	waitCleaned(ctx, t, dirs, 3) // X, Y and the marker are the group's first three offsets
	checkOffset(ctx, t, adm, group, in, committed, "after cleaning")
	checkOffset(ctx, t, nodetest.Admin(t, r.Restart()), group, in, committed, "after a restart")
}

// txnOffsetCommit adds the group's offsets to cl's open transaction and
// commits partition 0 of topic at offset inside it (AddOffsetsToTxn,
// TxnOffsetCommit: what a transactional consume-transform-produce loop
// sends).
func txnOffsetCommit(ctx context.Context, t *testing.T, cl *kgo.Client, txnID, group, topic string, offset int64) {
	t.Helper()
	pid, epoch, err := cl.ProducerID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ao := kmsg.NewPtrAddOffsetsToTxnRequest()
	ao.TransactionalID, ao.ProducerID, ao.ProducerEpoch, ao.Group = txnID, pid, epoch, group
	aoResp, err := ao.RequestWith(ctx, cl)
	if err == nil {
		err = kerr.ErrorForCode(aoResp.ErrorCode)
	}
	if err != nil {
		t.Fatalf("AddOffsetsToTxn: %v", err)
	}
	tc := kmsg.NewPtrTxnOffsetCommitRequest()
	tc.TransactionalID, tc.Group, tc.ProducerID, tc.ProducerEpoch, tc.Generation = txnID, group, pid, epoch, -1
	tt := kmsg.NewTxnOffsetCommitRequestTopic()
	tt.Topic = topic
	tp := kmsg.NewTxnOffsetCommitRequestTopicPartition()
	tp.Partition, tp.Offset, tp.LeaderEpoch = 0, offset, -1
	tt.Partitions = append(tt.Partitions, tp)
	tc.Topics = append(tc.Topics, tt)
	tcResp, err := tc.RequestWith(ctx, cl)
	if err == nil {
		err = kerr.ErrorForCode(tcResp.Topics[0].Partitions[0].ErrorCode)
	}
	if err != nil {
		t.Fatalf("TxnOffsetCommit: %v", err)
	}
}

// checkOffset fails unless the group's committed offset of partition 0 of
// topic is want.
func checkOffset(ctx context.Context, t *testing.T, adm *kadm.Client, group, topic string, want int64, when string) {
	t.Helper()
	resp, err := adm.FetchOffsets(ctx, group)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		t.Fatalf("%s: OffsetFetch: %v", when, err)
	}
	got, ok := resp.Lookup(topic, 0)
	if !ok || got.At != want {
		t.Fatalf("%s: committed offset %+v (found %v), want %d", when, got.Offset, ok, want)
	}
}

func produceKV(ctx context.Context, t *testing.T, cl *kgo.Client, k, v string) {
	t.Helper()
	if err := cl.ProduceSync(ctx, &kgo.Record{Key: []byte(k), Value: []byte(v)}).FirstErr(); err != nil {
		t.Fatalf("produce %s=%s: %v", k, v, err)
	}
}

// fillSegments produces 2.4 MB of records with distinct keys and random
// values (no codec shrinks them): more than two 1 MiB segments, so what
// came before is out of the active segment.
func fillSegments(ctx context.Context, t *testing.T, cl *kgo.Client, prefix string) {
	t.Helper()
	for i := range 24 {
		value := make([]byte, 100_000)
		for j := range value {
			value[j] = byte(rand.Uint32())
		}
		r := &kgo.Record{Key: fmt.Appendf(nil, "%s-%d", prefix, i), Value: value}
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
}

// consumeAll reads topic's partition 0 from the start to its end offset
// (whose last record must be a plain record, not a marker) with the given
// isolation level.
func consumeAll(ctx context.Context, t *testing.T, n *node.Node, topic string, iso kgo.IsolationLevel) []*kgo.Record {
	t.Helper()
	end := endOffset(ctx, t, nodetest.Admin(t, n), topic)
	cl := nodetest.Client(t, n, kgo.ConsumeTopics(topic), kgo.FetchIsolationLevel(iso),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	defer cl.Close()
	var out []*kgo.Record
	for last := int64(-1); last < end-1; {
		fs := cl.PollFetches(ctx)
		if err := fs.Err(); err != nil {
			t.Fatalf("consume %s: %v", topic, err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			out = append(out, r)
			last = r.Offset
		})
	}
	return out
}

// valuesOf returns the values of key's records, in order.
func valuesOf(recs []*kgo.Record, key string) []string {
	var out []string
	for _, r := range recs {
		if string(r.Key) == key {
			out = append(out, string(r.Value))
		}
	}
	return out
}

// waitCleaned waits until the cleaner checkpoint of one of dirs passed
// offset (docs/format/compaction.md: cleaner-checkpoint).
func waitCleaned(ctx context.Context, t *testing.T, dirs []string, offset int64) {
	t.Helper()
	for {
		for _, dir := range dirs {
			b, _ := os.ReadFile(filepath.Join(dir, "cleaner-checkpoint"))
			for _, line := range strings.Split(string(b), "\n") {
				if v, ok := strings.CutPrefix(line, "clean_offset: "); ok {
					if off, err := strconv.ParseInt(v, 10, 64); err == nil && off > offset {
						return
					}
				}
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no cleaning pass past offset %d in %v", offset, dirs)
		case <-time.After(20 * time.Millisecond):
		}
	}
}
