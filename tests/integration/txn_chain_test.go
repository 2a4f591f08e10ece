package integration

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-io/sluice/internal/node"
	"github.com/sluice-io/sluice/internal/node/nodetest"
)

// chainRecords is how many records go through the chain (the issue's
// full 500,000: about 30 s under -race on a 2-core machine).
const chainRecords = 500_000

// chainPartitions is the partition count of the chain's topics;
// chainWorkers the number of transactional consume-transform-produce
// workers; every chainAbortEvery-th transaction of a worker is aborted.
const chainPartitions, chainWorkers, chainAbortEvery = 6, 3, 5

// chainSentinel ends every output partition once the workers stopped.
const chainSentinel = "end"

// TestTransactionalChainExactlyOnce: chainRecords input records go through
// consume-transform-produce by three franz-go transactional workers
// (kgo.GroupTransactSession, one group), each copying what it polled to
// the output topic with its consumer offsets committed in the same
// transaction, and aborting every fifth transaction on purpose (the
// aborted records are polled again from the last committed offsets). A
// read_committed reader of the output then finds every input exactly
// once, and the group's committed offsets are the input's end offsets.
func TestTransactionalChainExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("hundreds of thousands of records: not in -short")
	}
	n := nodetest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	adm := nodetest.Admin(t, n)
	for _, topic := range []string{"chain-in", "chain-out"} {
		if _, err := adm.CreateTopic(ctx, chainPartitions, 1, nil, topic); err != nil {
			t.Fatal(err)
		}
	}
	const total = chainRecords
	start := time.Now()
	chainProduceInput(ctx, t, n, total)
	produced := time.Since(start)

	var committed, aborts atomic.Int64
	perWorker := make([]atomic.Int64, chainWorkers) // records each worker committed
	done := make(chan struct{})
	errc := make(chan error, chainWorkers)
	var wg sync.WaitGroup
	for w := range chainWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := chainWorker(ctx, n.Addr(), w, &committed, &perWorker[w], &aborts, done); err != nil {
				errc <- err
			}
		}()
	}
	stop := func() { close(done); wg.Wait() }
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for committed.Load() < int64(total) {
		select {
		case err := <-errc:
			stop()
			t.Fatal(err)
		case <-ctx.Done():
			stop()
			t.Fatalf("only %d of %d records committed", committed.Load(), total)
		case <-tick.C:
		}
	}
	stop()
	transformed := time.Since(start) - produced

	chainCheckOutput(ctx, t, n, total)
	chainCheckOffsets(ctx, t, adm, total)
	if aborts.Load() == 0 {
		t.Errorf("no transaction was aborted: the forced aborts did not happen")
	}
	shares := make([]int64, chainWorkers)
	for w := range perWorker {
		shares[w] = perWorker[w].Load()
	}
	t.Logf("%d records: input produced in %v, through %d workers (committing %v) exactly once in %v (%d transactions aborted on purpose)",
		total, produced.Round(time.Millisecond), chainWorkers, shares, transformed.Round(time.Millisecond), aborts.Load())
}

// chainProduceInput writes records 0..total-1 to chain-in, record i
// holding i as 8 bytes, on partition i % chainPartitions.
func chainProduceInput(ctx context.Context, t *testing.T, n *node.Node, total int) {
	t.Helper()
	prod := nodetest.Client(t, n, kgo.DefaultProduceTopic("chain-in"), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerLinger(5*time.Millisecond), kgo.MaxBufferedRecords(100_000))
	var failed atomic.Value
	for i := range total {
		r := &kgo.Record{Partition: int32(i % chainPartitions), Value: binary.BigEndian.AppendUint64(nil, uint64(i))}
		prod.Produce(ctx, r, func(_ *kgo.Record, err error) {
			if err != nil {
				failed.CompareAndSwap(nil, err)
			}
		})
	}
	if err := prod.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := failed.Load(); err != nil {
		t.Fatalf("produce input: %v", err)
	}
}

// chainWorker copies what it polls from chain-in to the same partition of
// chain-out, one transaction per poll, until done; every
// chainAbortEvery-th transaction aborts. committed and mine count the
// records of committed transactions (of all workers, of this one).
func chainWorker(ctx context.Context, addr string, w int, committed, mine, aborts *atomic.Int64, done <-chan struct{}) error {
	s, err := kgo.NewGroupTransactSession(
		kgo.SeedBrokers(addr),
		kgo.TransactionalID(fmt.Sprintf("chain-%d", w)),
		kgo.TransactionTimeout(30*time.Second),
		kgo.ConsumerGroup("chain"),
		kgo.ConsumeTopics("chain-in"),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.RequireStableFetchOffsets(),
		kgo.FetchMaxWait(50*time.Millisecond),
		kgo.SessionTimeout(6*time.Second),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerLinger(2*time.Millisecond),
	)
	if err != nil {
		return err
	}
	defer s.Close()
	for txn := 1; ; txn++ {
		select {
		case <-done:
			return nil
		default:
		}
		pctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		fs := s.PollRecords(pctx, 5000)
		cancel()
		if fs.IsClientClosed() {
			return nil
		}
		if fs.Empty() {
			continue
		}
		if err := s.Begin(); err != nil {
			return fmt.Errorf("worker %d begin: %w", w, err)
		}
		produced := 0
		fs.EachRecord(func(r *kgo.Record) {
			produced++
			s.Produce(ctx, &kgo.Record{Topic: "chain-out", Partition: r.Partition, Value: r.Value}, nil)
		})
		commit := txn%chainAbortEvery != 0
		ok, err := s.End(ctx, kgo.TransactionEndTry(commit))
		if err != nil {
			return fmt.Errorf("worker %d end: %w", w, err)
		}
		switch {
		case ok && commit:
			committed.Add(int64(produced))
			mine.Add(int64(produced))
		case !commit:
			aborts.Add(1)
		}
	}
}

// chainCheckOutput ends every output partition with a sentinel, reads the
// output read_committed up to the sentinels, and fails the test unless
// every input index is there exactly once, in its input partition.
func chainCheckOutput(ctx context.Context, t *testing.T, n *node.Node, total int) {
	t.Helper()
	prod := nodetest.Client(t, n, kgo.DefaultProduceTopic("chain-out"), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	for p := range int32(chainPartitions) {
		if err := prod.ProduceSync(ctx, &kgo.Record{Partition: p, Value: []byte(chainSentinel)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	cons := nodetest.Client(t, n, kgo.ConsumeTopics("chain-out"), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxBytes(16<<20))
	seen := make([]uint8, total)
	ended := map[int32]bool{}
	var bad error
	for len(ended) < chainPartitions && bad == nil {
		fs := cons.PollFetches(ctx)
		if err := fs.Err(); err != nil {
			t.Fatalf("read the output: %v", err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			switch {
			case string(r.Value) == chainSentinel:
				ended[r.Partition] = true
			case ended[r.Partition]:
			case len(r.Value) != 8:
				bad = fmt.Errorf("output %d/%d holds %q", r.Partition, r.Offset, r.Value)
			default:
				i := binary.BigEndian.Uint64(r.Value)
				if i >= uint64(total) || int32(i%chainPartitions) != r.Partition {
					bad = fmt.Errorf("output %d/%d holds index %d", r.Partition, r.Offset, i)
					return
				}
				seen[i]++
			}
		})
	}
	if bad != nil {
		t.Fatal(bad)
	}
	for i, c := range seen {
		if c != 1 {
			t.Fatalf("input %d appears %d times in the committed output", i, c)
		}
	}
}

// chainCheckOffsets fails the test unless group chain committed the end
// offset of every input partition.
func chainCheckOffsets(ctx context.Context, t *testing.T, adm *kadm.Client, total int) {
	t.Helper()
	ends, err := adm.ListEndOffsets(ctx, "chain-in")
	if err != nil {
		t.Fatal(err)
	}
	offs, err := adm.FetchOffsets(ctx, "chain")
	if err != nil {
		t.Fatal(err)
	}
	sum := int64(0)
	ends.Each(func(e kadm.ListedOffset) {
		sum += e.Offset
		if o, ok := offs.Lookup("chain-in", e.Partition); !ok || o.Err != nil || o.At != e.Offset {
			t.Errorf("group chain committed %+v on chain-in/%d, want the end offset %d", o, e.Partition, e.Offset)
		}
	})
	if sum != int64(total) {
		t.Errorf("chain-in holds %d records, want %d", sum, total)
	}
}
