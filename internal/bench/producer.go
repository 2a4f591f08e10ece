package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// run is what every client of one benchmark run shares.
type run struct {
	id         uint64
	topic      string
	partitions int32
	base       time.Time // send times are nanoseconds since base (monotonic)
	counters   counters
}

// sinceBase is the monotonic time since the run started, in nanoseconds.
func (r *run) sinceBase() int64 { return int64(time.Since(r.base)) }

// producer is one producing client. Its loop goroutine owns seqs and the
// records it builds; the promise (called serially by kgo) owns hist and
// lastAck; failures are guarded by mu.
type producer struct {
	id   uint32
	run  *run
	cl   *kgo.Client
	fill []byte // the value template: filler, header overwritten per record
	pool sync.Pool
	seqs []uint64 // next sequence number per partition

	hist    Histogram // send-to-ack latency
	lastAck int64     // sinceBase of the last ack

	mu       sync.Mutex
	failed   map[int32]map[uint64]bool // partition -> seq, records that failed
	firstErr error
}

func newProducer(id uint32, r *run, cl *kgo.Client, recordSize int) *producer {
	rng := rand.New(rand.NewPCG(r.id, uint64(id)))
	return &producer{id: id, run: r, cl: cl, fill: filler(recordSize, rng), seqs: make([]uint64, r.partitions)}
}

// produce sends up to limit records (0: no limit) until stop is set,
// paced by pacer when non-nil, then waits until every record is answered.
// A paced producer also stops at the first record due end (> 0) or later
// after the run's base: the stop timer may fire late on a busy machine,
// the schedule does not.
func (p *producer) produce(ctx context.Context, limit int64, pacer *Pacer, end time.Duration, stop *atomic.Bool) error {
	part := int32(p.id) % p.run.partitions
	promise := p.promise // one closure for the whole run
	for n := int64(0); (limit == 0 || n < limit) && !stop.Load(); n++ {
		var sent int64
		if pacer != nil {
			due, err := pacer.Wait(ctx)
			if err != nil {
				break
			}
			sent = int64(due.Sub(p.run.base))
			if end > 0 && sent >= int64(end) {
				break // due after the run's duration, whenever the timer fires
			}
		} else {
			sent = p.run.sinceBase()
		}
		r := p.record(part, sent)
		p.run.counters.sent.Add(1)
		p.cl.Produce(ctx, r, promise)
		// Round-robin over partitions: each gets an equal share, and the
		// client batches per partition as it would for a keyed workload.
		if part++; part == p.run.partitions {
			part = 0
		}
	}
	if err := p.cl.Flush(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("flush producer %d: %w", p.id, err)
	}
	return nil
}

// record builds the next record of partition part; records come back from
// the promise through the pool, so steady state allocates nothing.
func (p *producer) record(part int32, sentNs int64) *kgo.Record {
	r, _ := p.pool.Get().(*kgo.Record)
	var v []byte
	if r == nil {
		v = append([]byte(nil), p.fill...)
		r = new(kgo.Record)
	} else {
		v = r.Value
	}
	header{run: p.run.id, producer: p.id, partition: part, seq: p.seqs[part], sentNs: sentNs}.put(v)
	p.seqs[part]++
	*r = kgo.Record{Topic: p.run.topic, Partition: part, Value: v}
	return r
}

// promise is the kgo produce callback.
func (p *producer) promise(r *kgo.Record, err error) {
	if err != nil {
		p.fail(r, err)
	} else {
		now := p.run.sinceBase()
		if sent, ok := sentAt(r.Value); ok {
			p.hist.Record(now - sent)
		}
		p.lastAck = now
		p.run.counters.acked.Add(1)
		p.run.counters.ackedBytes.Add(int64(len(r.Value)))
	}
	p.pool.Put(r)
}

func (p *producer) fail(r *kgo.Record, err error) {
	p.run.counters.failed.Add(1)
	h, _ := readHeader(r.Value)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.firstErr == nil {
		p.firstErr = err
	}
	if p.failed == nil {
		p.failed = make(map[int32]map[uint64]bool)
	}
	if p.failed[r.Partition] == nil {
		p.failed[r.Partition] = make(map[uint64]bool)
	}
	p.failed[r.Partition][h.seq] = true
}

// isFailed reports whether the record seq of partition failed to produce.
func (p *producer) isFailed(part int32, seq uint64) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.failed[part][seq]
}

func (p *producer) err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.firstErr
}
