package txn_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-io/sluice/internal/node/nodetest"
)

// eosRecords is how many records the exactly-once test moves (the issue's
// 500,000 scaled down to run in seconds under -race).
const eosRecords = 50_000

// TestExactlyOnceConsumeTransformProduce: three consume-transform-produce
// workers (kgo.GroupTransactSession) copy every input record to the
// output topic with their consumer offsets committed inside each
// transaction, aborting every fifth transaction on purpose. A
// read_committed reader of the output then finds every input record
// exactly once.
func TestExactlyOnceConsumeTransformProduce(t *testing.T) {
	n := startNode(t)
	createTopic(t, n, "eos-in", 3)
	createTopic(t, n, "eos-out", 3)
	in := nodetest.Client(t, n, kgo.RecordPartitioner(kgo.RoundRobinPartitioner()), kgo.ProducerLinger(5*time.Millisecond))
	ctx := testCtx(t, 120*time.Second)
	recs := make([]*kgo.Record, eosRecords)
	for i := range recs {
		recs[i] = &kgo.Record{Topic: "eos-in", Value: []byte(strconv.Itoa(i))}
	}
	if err := in.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	var committed atomic.Int64
	done := make(chan struct{})
	var wg sync.WaitGroup
	errc := make(chan error, 3)
	for w := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := eosWorker(ctx, n.Addr(), w, &committed, done); err != nil {
				errc <- err
			}
		}()
	}
	deadline := time.After(90 * time.Second)
	for committed.Load() < eosRecords {
		select {
		case err := <-errc:
			close(done)
			wg.Wait()
			t.Fatal(err)
		case <-deadline:
			close(done)
			wg.Wait()
			t.Fatalf("only %d of %d records committed", committed.Load(), eosRecords)
		case <-time.After(20 * time.Millisecond):
		}
	}
	close(done)
	wg.Wait()
	out := readAll(t, n, "eos-out", kgo.ReadCommitted(), eosRecords+1, 2*time.Second)
	seen := make([]int, eosRecords)
	for _, v := range out {
		i, err := strconv.Atoi(v)
		if err != nil || i < 0 || i >= eosRecords {
			t.Fatalf("unexpected output %q", v)
		}
		seen[i]++
	}
	for i, c := range seen {
		if c != 1 {
			t.Fatalf("input %d appears %d times in the committed output (%d records read)", i, c, len(out))
		}
	}
	all := readAll(t, n, "eos-out", kgo.ReadUncommitted(), -1, 2*time.Second)
	t.Logf("%d records exactly once; %d in the output log counting aborted transactions", len(out), len(all))
	if len(all) <= len(out) {
		t.Errorf("no aborted records in the output log (%d): the forced aborts did not happen", len(all))
	}
}

// eosWorker runs transactions until done; every fifth one aborts.
func eosWorker(ctx context.Context, addr string, w int, committed *atomic.Int64, done <-chan struct{}) error {
	s, err := kgo.NewGroupTransactSession(
		kgo.SeedBrokers(addr),
		kgo.TransactionalID(fmt.Sprintf("eos-%d", w)),
		kgo.TransactionTimeout(30*time.Second),
		kgo.ConsumerGroup("eos"),
		kgo.ConsumeTopics("eos-in"),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.RequireStableFetchOffsets(),
		kgo.FetchMaxWait(50*time.Millisecond),
		kgo.SessionTimeout(6*time.Second),
		kgo.ProducerLinger(0),
	)
	if err != nil {
		return err
	}
	defer s.Close()
	for n := 0; ; { // n counts transactions, not polls: empty polls must not skip the forced aborts
		select {
		case <-done:
			return nil
		default:
		}
		pctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		fs := s.PollRecords(pctx, 2000)
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
			s.Produce(ctx, &kgo.Record{Topic: "eos-out", Value: r.Value}, nil)
		})
		commit := n%5 != 4
		n++
		if !commit {
			// An abort drops records still buffered in the client: send
			// them first, so the aborted data really reaches the log.
			if err := s.Client().Flush(ctx); err != nil {
				return fmt.Errorf("worker %d flush: %w", w, err)
			}
		}
		ok, err := s.End(ctx, kgo.TransactionEndTry(commit))
		if err != nil {
			return fmt.Errorf("worker %d end: %w", w, err)
		}
		if ok && commit {
			committed.Add(int64(produced))
		}
	}
}
