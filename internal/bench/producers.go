package bench

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// deliveryTimeout bounds how long a record may wait for its ack: Kafka's
// delivery.timeout.ms default. A dead broker fails the run instead of
// hanging it.
const deliveryTimeout = 2 * time.Minute

// interruptFlush bounds how long an interrupted run waits for the records
// already sent.
const interruptFlush = 5 * time.Second

// producers are the producing clients of one run.
type producers struct {
	run       *run
	list      []*producer
	closeOnce sync.Once
}

// producerOpts are the client options every producer of s uses.
func producerOpts(s *Spec, idempotent bool) []kgo.Opt {
	opts := []kgo.Opt{
		kgo.ClientID("sluice-bench"),
		kgo.DefaultProduceTopic(s.Topic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		s.Acks.opt(),
		kgo.ProducerBatchCompression(Codecs[s.Compression]),
		kgo.ProducerLinger(s.Linger),
		kgo.RecordDeliveryTimeout(deliveryTimeout),
	}
	if !idempotent {
		opts = append(opts, kgo.DisableIdempotentWrite())
	}
	if s.BatchMaxBytes > 0 {
		opts = append(opts, kgo.ProducerBatchMaxBytes(s.BatchMaxBytes))
	}
	return opts
}

// newProducers connects s.Producers clients.
func newProducers(ctx context.Context, s *Spec, r *run, idempotent bool) (*producers, error) {
	ps := &producers{run: r}
	opts := producerOpts(s, idempotent)
	for i := range s.Producers {
		cl, err := s.NewClient(ctx, opts...)
		if err != nil {
			ps.close()
			return nil, err
		}
		ps.list = append(ps.list, newProducer(uint32(i), r, cl, s.RecordSize))
	}
	return ps, nil
}

// close closes every client (failing what is still buffered); it may be
// called more than once.
func (ps *producers) close() {
	ps.closeOnce.Do(func() {
		for _, p := range ps.list {
			p.cl.Close()
		}
	})
}

// produce runs every producer until s's records or duration are reached
// or ctx ends, and waits for every ack (bounded when ctx ended).
func (ps *producers) produce(ctx context.Context, s *Spec) error {
	var stop atomic.Bool
	if s.Duration > 0 {
		t := time.AfterFunc(s.Duration, func() { stop.Store(true) })
		defer t.Stop()
	}
	sendCtx, cancelSend := context.WithCancel(ctx)
	defer cancelSend()
	go func() {
		<-sendCtx.Done()
		stop.Store(true)
	}()
	n := int64(len(ps.list))
	var wg sync.WaitGroup
	errs := make([]error, len(ps.list))
	for i, p := range ps.list {
		limit := s.Records / n
		if int64(i) < s.Records%n {
			limit++
		}
		if s.Records > 0 && limit == 0 {
			continue // more producers than records
		}
		var pacer *Pacer
		if s.Rate > 0 {
			pacer = NewPacer(s.Rate/float64(n), ps.run.base)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = p.produce(sendCtx, limit, pacer, s.Duration, &stop)
		}()
	}
	flushed := make(chan struct{})
	go func() {
		wg.Wait()
		close(flushed)
	}()
	select {
	case <-flushed:
	case <-ctx.Done():
		select {
		case <-flushed:
		case <-time.After(interruptFlush):
			ps.close() // fails what is still buffered, which ends the flushes
			<-flushed
		}
	}
	return errors.Join(errs...)
}

// fill adds the producers' totals and latency to res.
func (ps *producers) fill(res *Result, hist *Histogram) (lastAck int64) {
	c := &ps.run.counters
	res.Sent, res.Errors = c.sent.Load(), c.failed.Load()
	for _, p := range ps.list {
		hist.Merge(&p.hist)
		lastAck = max(lastAck, p.lastAck)
		if err := p.err(); err != nil && res.FirstError == "" {
			res.FirstError = err.Error()
		}
	}
	return lastAck
}
