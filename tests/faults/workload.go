package faults

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Workload runs the suite's clients against a cluster and records what
// they did: three producers writing at a bounded rate (idempotent, plain
// and transactional, all acks=all, one transaction in three aborted) and
// three consumers (two in a group reading uncommitted, one reading
// committed records of every partition). Safe for concurrent use.
type Workload struct {
	topic     string
	bootstrap []string
	rate      time.Duration // between two sends of one producer

	mu       sync.Mutex
	stopping bool // guarded by mu; the producers stop sending
	sends    []Send
	txns     map[string]TxnOutcome
	reads    []Read
	ackAt    []time.Time // when each acknowledgement of the idempotent producer arrived
	errors   []string    // the first client errors, for the log

	wg        sync.WaitGroup // every client
	producers sync.WaitGroup
	cancel    context.CancelFunc
}

// NewWorkload prepares clients for topic on bootstrap; perProducer is
// each producer's send rate per second.
func NewWorkload(topic string, bootstrap []string, perProducer int) *Workload {
	return &Workload{topic: topic, bootstrap: bootstrap, rate: time.Second / time.Duration(perProducer), txns: map[string]TxnOutcome{}}
}

// Start starts the clients; Stop ends them.
func (w *Workload) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	for i, f := range []func(context.Context){
		func(ctx context.Context) { w.produce(ctx, "i", true) },
		func(ctx context.Context) { w.produce(ctx, "p", false) },
		w.transact,
		func(ctx context.Context) { w.consumeGroup(ctx, "g1") },
		func(ctx context.Context) { w.consumeGroup(ctx, "g2") },
		w.consumeCommitted,
	} {
		producer := i < 3
		w.wg.Add(1)
		if producer {
			w.producers.Add(1)
		}
		go func() {
			defer w.wg.Done()
			if producer {
				defer w.producers.Done()
			}
			f(ctx)
		}()
	}
}

// StopProducers makes the producers stop sending and waits up to grace
// for the acknowledgements of what they sent (and the transaction under
// way to end); the consumers keep reading.
func (w *Workload) StopProducers(grace time.Duration) {
	w.mu.Lock()
	w.stopping = true
	w.mu.Unlock()
	done := make(chan struct{})
	go func() {
		w.producers.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(grace):
		w.noteErr("workload", fmt.Errorf("producers still waiting for acknowledgements after %v", grace))
	}
}

// Stop ends every client.
func (w *Workload) Stop() {
	w.cancel()
	w.wg.Wait()
}

func (w *Workload) producing() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return !w.stopping
}

func (w *Workload) client(opts ...kgo.Opt) (*kgo.Client, error) {
	return kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(w.bootstrap...), kgo.MetadataMinAge(250 * time.Millisecond),
		kgo.RetryTimeout(time.Minute)}, opts...)...)
}

func (w *Workload) noteErr(who string, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.errors) < 50 {
		w.errors = append(w.errors, fmt.Sprintf("%s %s: %v", time.Now().Format("15:04:05.000"), who, err))
	}
}

// record stores s (appended now, completed by the callback later).
func (w *Workload) record(s Send) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.sends = append(w.sends, s)
	return len(w.sends) - 1
}

func (w *Workload) acked(i int, r *kgo.Record, err error, idempotent bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		return
	}
	s := &w.sends[i]
	s.Acked, s.Partition, s.Offset = true, r.Partition, r.Offset
	if idempotent {
		w.ackAt = append(w.ackAt, time.Now())
	}
}

// produce sends one record per tick until Stop, then flushes.
func (w *Workload) produce(ctx context.Context, name string, idempotent bool) {
	opts := []kgo.Opt{kgo.DefaultProduceTopic(w.topic), kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.RecordPartitioner(kgo.RoundRobinPartitioner())}
	if !idempotent {
		opts = append(opts, kgo.DisableIdempotentWrite())
	}
	cl, err := w.client(opts...)
	if err != nil {
		w.noteErr(name, err)
		return
	}
	defer cl.Close()
	t := time.NewTicker(w.rate)
	defer t.Stop()
	for seq := 0; w.producing(); seq++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		v := fmt.Sprintf("%s-%d", name, seq)
		i := w.record(Send{Producer: name, Seq: seq, Value: v, Idempotent: idempotent})
		cl.Produce(ctx, &kgo.Record{Value: []byte(v)}, func(r *kgo.Record, err error) {
			if err != nil && !errors.Is(err, context.Canceled) {
				w.noteErr(name, err)
			}
			w.acked(i, r, err, idempotent)
		})
	}
	if err := cl.Flush(ctx); err != nil {
		w.noteErr(name, err)
	}
}

// transact writes transactions of five records, aborting one in three,
// until Stop. A transaction whose end fails is aborted if it can be, and
// otherwise has an unknown outcome; the producer then starts over with a
// new client (which fences the old one).
func (w *Workload) transact(ctx context.Context) {
	const name = "t"
	var cl *kgo.Client
	defer func() {
		if cl != nil {
			cl.Close()
		}
	}()
	seq := 0
	for n := 0; w.producing() && ctx.Err() == nil; n++ {
		if cl == nil {
			var err error
			if cl, err = w.client(kgo.DefaultProduceTopic(w.topic), kgo.TransactionalID("faults-txn"),
				kgo.RecordPartitioner(kgo.RoundRobinPartitioner()), kgo.TransactionTimeout(10*time.Second)); err != nil {
				w.noteErr(name, err)
				return
			}
		}
		id := fmt.Sprintf("t%d", n)
		if err := cl.BeginTransaction(); err != nil {
			w.noteErr(name, err)
			cl.Close()
			cl = nil
			continue
		}
		for k := range 5 {
			v := fmt.Sprintf("%s-%d", id, k)
			i := w.record(Send{Producer: name, Seq: seq, Value: v, Txn: id})
			seq++
			cl.Produce(ctx, &kgo.Record{Value: []byte(v)}, func(r *kgo.Record, err error) { w.acked(i, r, err, false) })
			select {
			case <-ctx.Done():
			case <-time.After(w.rate):
			}
		}
		commit := n%3 != 2
		err := cl.Flush(ctx)
		if err == nil {
			err = cl.EndTransaction(ctx, kgo.TransactionEndTry(commit))
		}
		switch {
		case err == nil:
			w.setTxn(id, TxnOutcome{Committed: commit, Aborted: !commit})
		default:
			w.noteErr(name, err)
			actx, cancel := context.WithTimeout(ctx, 10*time.Second)
			cl.AbortBufferedRecords(actx)
			aerr := cl.EndTransaction(actx, kgo.TryAbort)
			cancel()
			if aerr == nil && !commit {
				w.setTxn(id, TxnOutcome{Aborted: true})
			} else {
				w.setTxn(id, TxnOutcome{}) // unknown: the commit may have been written
			}
			cl.Close()
			cl = nil
		}
	}
}

func (w *Workload) setTxn(id string, o TxnOutcome) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.txns[id] = o
}

// consumeGroup reads uncommitted records as member name of a group until
// ctx ends; each assignment change starts a new session.
func (w *Workload) consumeGroup(ctx context.Context, name string) {
	var mu sync.Mutex
	session := 0
	bump := func(context.Context, *kgo.Client, map[string][]int32) {
		mu.Lock()
		session++
		mu.Unlock()
	}
	cl, err := w.client(kgo.ConsumerGroup("faults-g"), kgo.ConsumeTopics(w.topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadUncommitted()),
		kgo.OnPartitionsAssigned(bump), kgo.OnPartitionsRevoked(bump), kgo.OnPartitionsLost(bump))
	if err != nil {
		w.noteErr(name, err)
		return
	}
	defer cl.Close()
	w.poll(ctx, cl, name, false, func() int {
		mu.Lock()
		defer mu.Unlock()
		return session
	})
}

// consumeCommitted reads committed records of every partition (no group)
// until ctx ends.
func (w *Workload) consumeCommitted(ctx context.Context) {
	cl, err := w.client(kgo.ConsumeTopics(w.topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		w.noteErr("rc", err)
		return
	}
	defer cl.Close()
	w.poll(ctx, cl, "rc", true, func() int { return 0 })
}

func (w *Workload) poll(ctx context.Context, cl *kgo.Client, name string, committed bool, session func() int) {
	for ctx.Err() == nil {
		fs := cl.PollFetches(ctx)
		fs.EachError(func(_ string, _ int32, err error) {
			if !errors.Is(err, context.Canceled) {
				w.noteErr(name, err)
			}
		})
		s := session()
		w.mu.Lock()
		fs.EachRecord(func(r *kgo.Record) {
			w.reads = append(w.reads, Read{Consumer: name, Session: s, Partition: r.Partition, Offset: r.Offset,
				Value: string(r.Value), ReadCommitted: committed})
		})
		w.mu.Unlock()
	}
}

// AckTimes are when the idempotent producer's acknowledgements arrived.
func (w *Workload) AckTimes() []time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]time.Time(nil), w.ackAt...)
}

// Errors are the first client errors seen.
func (w *Workload) Errors() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.errors...)
}

// History is what the clients did (without the final reads).
func (w *Workload) History() History {
	w.mu.Lock()
	defer w.mu.Unlock()
	txns := make(map[string]TxnOutcome, len(w.txns))
	for k, v := range w.txns {
		txns[k] = v
	}
	return History{Sends: append([]Send(nil), w.sends...), Txns: txns, Reads: append([]Read(nil), w.reads...)}
}
