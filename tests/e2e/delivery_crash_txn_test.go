package e2e

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestKill9AbortsOpenTransactions: three franz-go transactional producers
// (transaction.timeout.ms 2000) each commit a transaction and then leave
// a second one open with its records written, while an idempotent
// producer writes 20,000 records. The broker is killed with SIGKILL in the
// middle of the idempotent load and restarted over the same data. Then:
// the open transactions are aborted by their timeout (the last stable
// offset, polled with ListOffsets read_committed, reaches the high
// watermark); a read_committed reader sees every committed record and
// every idempotent record exactly once and no record of an open
// transaction; the idempotent producer, the same client reconnecting and
// retrying what was in flight, stored each record once, in order per
// partition; and a new producer with an aborted transaction's id commits.
func TestKill9AbortsOpenTransactions(t *testing.T) {
	t.Parallel()
	b := startBroker(t, "transaction.abort.timed.out.transaction.cleanup.interval.ms=200")
	const topic, partitions, producers, perTxn, idemCount = "open-txns", 3, 3, 30, 20_000
	makeTopic(t, b, topic, partitions)
	ctx, cancel := context.WithTimeout(context.Background(), deliveryTimeout)
	defer cancel()

	var committed, open []string
	for i := range producers {
		cl := txnClient(t, b, topic, fmt.Sprintf("open-%d", i))
		c := valueRange(fmt.Sprintf("c-%d-", i), 0, perTxn)
		txnProduce(ctx, t, cl, c)
		if err := cl.EndTransaction(ctx, kgo.TryCommit); err != nil {
			t.Fatalf("commit %d: %v", i, err)
		}
		o := valueRange(fmt.Sprintf("o-%d-", i), 0, perTxn)
		txnProduce(ctx, t, cl, o)
		cl.Close() // the transaction stays open, as if the producer had crashed
		committed, open = append(committed, c...), append(open, o...)
	}

	// The second half waits for the kill, so the load cannot be over
	// before it (on a fast run it was, one time in two).
	idem := newIdempotentLoad(ctx, t, b, topic, partitions, idemCount, idemCount/2)
	idem.awaitAcks(ctx, t, idemCount/4)
	b.kill9()
	atKill := idem.ackedNow()
	idem.release()
	b.restart()
	if atKill >= idemCount {
		t.Fatalf("the idempotent producer finished (%d acks) before the kill", atKill)
	}
	if err := idem.cl.Flush(ctx); err != nil {
		t.Fatalf("idempotent producer flush after restart: %v", err)
	}
	idem.check(t)

	awaitStable(t, b, topic)
	again := txnClient(t, b, topic, "open-0")
	txnProduce(ctx, t, again, []string{"n-0"})
	if err := again.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatalf("commit with open-0 after restart: %v", err)
	}
	committed = append(committed, "n-0")

	want := append(slices.Clone(committed), valueRange("i-", 0, idemCount)...)
	got := readToSentinels(t, b, topic, partitions, kgo.ReadCommitted())
	if diffs := exactlyOnceDiff(countValues(got), want, 5); len(diffs) > 0 {
		t.Fatalf("read_committed after kill -9 and restart: %q", diffs)
	}
	checkIdempotentOrder(t, got)
	all := countValues(readToSentinels(t, b, topic, partitions, kgo.ReadUncommitted()))
	for _, v := range open {
		if all[v] != 1 {
			t.Fatalf("open transaction's record %s stored %d times, want once (aborted, not removed)", v, all[v])
		}
	}
	t.Logf("%d open transactions' records aborted after restart; %d idempotent records (%d acknowledged when killed) exactly once",
		len(open), idemCount, atKill)
}

// txnClient is a franz-go transactional producer with a 2 s transaction
// timeout, writing value i to partition i % 3 of topic.
func txnClient(t *testing.T, b *broker, topic, id string) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr), kgo.TransactionalID(id),
		kgo.TransactionTimeout(2*time.Second), kgo.DefaultProduceTopic(topic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// txnProduce begins a transaction on cl and writes values in it.
func txnProduce(ctx context.Context, t *testing.T, cl *kgo.Client, values []string) {
	t.Helper()
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	recs := make([]*kgo.Record, len(values))
	for i, v := range values {
		recs[i] = &kgo.Record{Partition: int32(i % 3), Value: []byte(v)}
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("transactional produce: %v", err)
	}
}

// idempotentLoad is a franz-go idempotent producer writing "i-0".."i-N-1",
// value k to partition k % partitions, from a goroutine that stops before
// record hold until release is called. Safe for concurrent use.
type idempotentLoad struct {
	cl      *kgo.Client
	count   int
	resume  chan struct{}
	release func()

	mu     sync.Mutex
	acked  int
	errs   []error
	change chan struct{} // closed and replaced on each ack
}

func newIdempotentLoad(ctx context.Context, t *testing.T, b *broker, topic string, partitions int32, count, hold int) *idempotentLoad {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr), kgo.DefaultProduceTopic(topic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerLinger(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	l := &idempotentLoad{cl: cl, count: count, change: make(chan struct{}), resume: make(chan struct{})}
	l.release = sync.OnceFunc(func() { close(l.resume) })
	t.Cleanup(l.release)
	go func() {
		for k := range count {
			if k == hold {
				select {
				case <-l.resume:
				case <-ctx.Done():
					return
				}
			}
			r := &kgo.Record{Partition: int32(k) % partitions, Value: []byte("i-" + strconv.Itoa(k))}
			cl.Produce(ctx, r, l.done)
		}
	}()
	return l
}

func (l *idempotentLoad) done(_ *kgo.Record, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		l.errs = append(l.errs, err)
	} else {
		l.acked++
	}
	close(l.change)
	l.change = make(chan struct{})
}

// awaitAcks waits until n records are acknowledged; it fails the test on
// a failed record or at ctx's end.
func (l *idempotentLoad) awaitAcks(ctx context.Context, t *testing.T, n int) {
	t.Helper()
	for {
		l.mu.Lock()
		acked, errs, change := l.acked, len(l.errs), l.change
		l.mu.Unlock()
		if errs > 0 {
			l.check(t)
		}
		if acked >= n {
			return
		}
		select {
		case <-change:
		case <-ctx.Done():
			t.Fatalf("%d of %d records acknowledged before the deadline", acked, n)
		}
	}
}

func (l *idempotentLoad) ackedNow() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.acked
}

// check fails the test unless every record was acknowledged.
func (l *idempotentLoad) check(t *testing.T) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.acked != l.count || len(l.errs) > 0 {
		t.Fatalf("idempotent producer: %d of %d acknowledged; errors %v", l.acked, l.count, l.errs[:min(len(l.errs), 5)])
	}
}

// checkIdempotentOrder fails the test unless the idempotent records of
// each partition are in the order they were produced.
func checkIdempotentOrder(t *testing.T, byPartition map[int32][]string) {
	t.Helper()
	for p, vs := range byPartition {
		last := -1
		for _, v := range vs {
			s, ok := strings.CutPrefix(v, "i-")
			if !ok {
				continue
			}
			k, _ := strconv.Atoi(s)
			if k <= last {
				t.Fatalf("partition %d: idempotent record %d after %d", p, k, last)
			}
			last = k
		}
	}
}
