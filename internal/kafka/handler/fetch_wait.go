package handler

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/replica"
)

// fetchWait is a fetch waiting for min_bytes (Kafka's delayed fetch). It
// has no goroutine of its own: an append to a partition it watches, its
// max_wait timer and the end of the connection each poke it, and the
// goroutine that pokes re-reads the partitions and, once enough is there
// (or time is up), completes the reply. A produce thus completes the
// fetches it satisfies on its own goroutine, as Kafka's request handler
// completes delayed fetches after an append, and a long poll costs no
// goroutine start and no wake-up but the connection writer's.
//
// Pokes are serialized without a lock: pokes counts those not yet served,
// and only the poke that raised it from zero runs; it re-reads until no
// poke came in during a read. Completion leaves pokes above zero, so
// every later poke returns at once.
//
// A panic while serving a poke fails this fetch alone (UNKNOWN_SERVER_ERROR,
// panic.go), never the goroutine that poked: a produce that woke it still
// gets its own answer. The fetch then stops watching, and pokes stays
// above zero.
type fetchWait struct {
	b        *Broker
	req      *kmsg.FetchRequest
	sc       *fetchScratch
	reply    *Reply
	flexible bool
	watched  []*replica.Partition

	pokes    atomic.Int32
	expired  atomic.Bool // max_wait passed or the connection ended
	timer    *time.Timer
	stopCtx  func() bool
	finished bool // stopped watching; only the serving poke touches it
	late     lateState
}

// waitFetch parks a fetch that found less than min_bytes and returns its
// reply, complete already when an append came in meanwhile.
func (b *Broker) waitFetch(ctx context.Context, req *kmsg.FetchRequest, sc *fetchScratch) *Reply {
	w := &fetchWait{b: b, req: req, sc: sc, reply: &Reply{done: make(chan struct{})}, flexible: req.IsFlexible()}
	w.reply.late = &w.late
	w.watched = append(w.watched, sc.parts...)
	w.pokes.Store(1) // held until armed: nothing completes it half set up
	for _, p := range w.watched {
		p.Watch(w)
	}
	w.timer = time.AfterFunc(time.Duration(req.MaxWaitMillis)*time.Millisecond, w.expire)
	w.stopCtx = context.AfterFunc(ctx, w.expire)
	// Read again: an append between the first read and Watch woke nobody.
	w.serve()
	return w.reply
}

// Wake is called by an append to a watched partition.
func (w *fetchWait) Wake() { w.poke() }

func (w *fetchWait) expire() {
	w.expired.Store(true)
	w.poke()
}

func (w *fetchWait) poke() {
	if w.pokes.Add(1) == 1 {
		w.serve()
	}
}

// serve runs the reads owed: the caller raised pokes from zero.
func (w *fetchWait) serve() {
	defer w.recoverPanic()
	for {
		seen := w.pokes.Load()
		if w.try() {
			return // pokes stays above zero: later pokes return at once
		}
		if w.pokes.CompareAndSwap(seen, 0) {
			return
		}
	}
}

// try reads the partitions and completes the reply when min_bytes are
// there or time is up.
func (w *fetchWait) try() bool {
	hook("fetch-wait")
	expired := w.expired.Load()
	if n := w.b.fetchOnce(w.req, w.sc); n < int(w.req.MinBytes) && !expired {
		return false
	}
	w.finish()
	w.reply.body, w.reply.flexible = w.sc.encode(w.req), w.flexible
	close(w.reply.done)
	return true
}

// finish stops the timer and the watches.
func (w *fetchWait) finish() {
	w.finished = true
	w.timer.Stop()
	w.stopCtx()
	for _, p := range w.watched {
		p.Unwatch(w)
	}
}

// recoverPanic, deferred by serve, fails the fetch if a read panicked.
// pokes stays above zero, so no poke serves it again.
func (w *fetchWait) recoverPanic() {
	v := recover()
	if v == nil {
		return
	}
	p := recovered(v)
	if !w.finished {
		w.finish()
	}
	w.reply.fail(p)
}
