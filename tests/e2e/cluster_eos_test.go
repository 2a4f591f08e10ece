package e2e

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestClusterEOSChainSurvivesCoordinatorKill: three combined nodes; a
// franz-go consume-transform-produce chain (GroupTransactSession:
// read_committed input, transactional output with the consumed offsets
// in the same transaction) copies 3,000 records from "in" to "out". When
// a third of them are copied, the broker that is the chain's transaction
// coordinator is killed with SIGKILL. The chain carries on through the
// new coordinator, and "out", read committed, holds every input record
// exactly once.
func TestClusterEOSChainSurvivesCoordinatorKill(t *testing.T) {
	t.Parallel()
	bs, seeds := startVoters(t, "offsets.topic.replication.factor=3", "transaction.state.log.replication.factor=3",
		"transaction.state.log.min.isr=2", "default.replication.factor=3", "group.initial.rebalance.delay.ms=0")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.RequiredAcks(kgo.AllISRAcks()), kgo.MetadataMinAge(250*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	for _, topic := range []string{"in", "out"} {
		if _, err := adm.CreateTopic(ctx, 3, 3, nil, topic); err != nil {
			t.Fatal(err)
		}
	}
	const total = 3000
	for i := range total {
		cl.Produce(ctx, &kgo.Record{Topic: "in", Value: []byte(strconv.Itoa(i))}, func(_ *kgo.Record, err error) {
			if err != nil {
				t.Errorf("produce input: %v", err)
			}
		})
	}
	if err := cl.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	sess, err := kgo.NewGroupTransactSession(kgo.SeedBrokers(seeds...), kgo.TransactionalID("chain"),
		kgo.ConsumerGroup("chain-g"), kgo.ConsumeTopics("in"), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.RequireStableFetchOffsets(), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.MetadataMinAge(250*time.Millisecond), kgo.TransactionTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	copied, killed := 0, false
	done := make(chan struct{})
	go readOut(ctx, t, seeds, total, done)
	for {
		select {
		case <-done:
			return
		case <-ctx.Done():
			t.Fatalf("the chain stalled: %d records copied in committed transactions", copied)
		default:
		}
		if !killed && copied >= total/3 {
			co := adm.FindTxnCoordinators(ctx, "chain")
			c, ok := co["chain"]
			if !ok || c.Err != nil {
				t.Fatalf("find the chain's transaction coordinator: %+v", co)
			}
			t.Logf("killing node %d, the transaction coordinator, after %d records", c.NodeID, copied)
			bs[c.NodeID-1].Kill9()
			killed = true
		}
		pctx, pcancel := context.WithTimeout(ctx, 2*time.Second)
		fs := sess.PollRecords(pctx, 50) // small transactions: the kill lands mid-run
		pcancel()
		if fs.NumRecords() == 0 {
			continue
		}
		if err := sess.Begin(); err != nil {
			t.Fatalf("begin: %v", err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			sess.Produce(ctx, &kgo.Record{Topic: "out", Value: []byte("x-" + string(r.Value))}, nil)
		})
		committed, err := sess.End(ctx, kgo.TryCommit)
		if err != nil {
			t.Logf("end of a transaction of %d records: %v (it was aborted; the records come again)", fs.NumRecords(), err)
			continue
		}
		if committed {
			copied += fs.NumRecords()
		}
	}
}

// readOut reads "out" committed until every input record is there once,
// then closes done; a duplicate fails the test.
func readOut(ctx context.Context, t *testing.T, seeds []string, total int, done chan<- struct{}) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ConsumeTopics("out"), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.MetadataMinAge(250*time.Millisecond))
	if err != nil {
		t.Error(err)
		return
	}
	defer cl.Close()
	seen := map[string]string{}
	for len(seen) < total {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Errorf("out holds %d of %d records", len(seen), total)
			return
		}
		fs.EachRecord(func(r *kgo.Record) {
			at := fmt.Sprintf("%d/%d", r.Partition, r.Offset)
			if prev, dup := seen[string(r.Value)]; dup {
				t.Errorf("%s is in out twice, at %s and %s", r.Value, prev, at)
			}
			seen[string(r.Value)] = at
		})
	}
	for i := range total {
		if _, ok := seen["x-"+strconv.Itoa(i)]; !ok {
			t.Errorf("x-%d missing from out", i)
		}
	}
	close(done)
}

// TestClusterGroupCoordinatorMoves: a group's committed offsets survive
// the SIGKILL of its coordinator's broker; FindCoordinator then names
// another broker, which answers OffsetFetch with the same offsets and
// takes new commits.
func TestClusterGroupCoordinatorMoves(t *testing.T) {
	t.Parallel()
	bs, seeds := startVoters(t, "offsets.topic.replication.factor=3", "default.replication.factor=3")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.MetadataMinAge(250*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	if _, err := adm.CreateTopic(ctx, 3, 3, nil, "g-topic"); err != nil {
		t.Fatal(err)
	}
	offsets := kadm.Offsets{}
	for p := range int32(3) {
		offsets.Add(kadm.Offset{Topic: "g-topic", Partition: p, At: int64(100 + p), LeaderEpoch: -1})
	}
	// The coordinator's broker may not know the topic yet (CreateTopics
	// answers once the controller committed it): Kafka's retriable
	// UNKNOWN_TOPIC_OR_PARTITION, which kadm does not retry.
	for {
		err := adm.CommitAllOffsets(ctx, "g", offsets)
		if err == nil {
			break
		}
		if !errors.Is(err, kerr.UnknownTopicOrPartition) || ctx.Err() != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond) // another broker's metadata apply: no event to wait on
	}
	before := adm.FindGroupCoordinators(ctx, "g")["g"]
	if before.Err != nil {
		t.Fatal(before.Err)
	}
	bs[before.NodeID-1].Kill9()
	// A client bootstrapped to the survivors (franz-go keeps dialling a
	// dead seed broker for requests that may go to any broker).
	var survivors []string
	for _, b := range bs {
		if b.Alive() {
			survivors = append(survivors, b.Addr)
		}
	}
	scl, err := kgo.NewClient(kgo.SeedBrokers(survivors...), kgo.MetadataMinAge(250*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer scl.Close()
	adm = kadm.NewClient(scl)

	var after kadm.FindCoordinatorResponse
	for {
		after = adm.FindGroupCoordinators(ctx, "g")["g"]
		if after.Err == nil && after.NodeID != before.NodeID {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the group's coordinator did not move from node %d: %+v", before.NodeID, after)
		case <-time.After(100 * time.Millisecond): // fencing happens in other processes: no event to wait on
		}
	}
	// Brokers learn the move one after the other: one may still name the
	// dead coordinator for a moment, and the client retries, as any does.
	var got kadm.OffsetResponses
	for {
		if got, err = adm.FetchOffsets(ctx, "g"); err == nil {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("fetch offsets after the coordinator moved: %v", err)
		case <-time.After(100 * time.Millisecond): // the client's retry pace
		}
	}
	for p := range int32(3) {
		if o, ok := got.Lookup("g-topic", p); !ok || o.At != int64(100+p) {
			t.Fatalf("partition %d: offset %+v after the coordinator moved to node %d, want %d", p, o, after.NodeID, 100+p)
		}
	}
	offsets = kadm.Offsets{}
	offsets.Add(kadm.Offset{Topic: "g-topic", Partition: 0, At: 500, LeaderEpoch: -1})
	if err := adm.CommitAllOffsets(ctx, "g", offsets); err != nil {
		t.Fatalf("commit through the new coordinator: %v", err)
	}
}
