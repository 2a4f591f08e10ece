package conn

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
)

// Request budget: how much a connection may read ahead of its replies.
//
// A request is in flight from the moment its size is read until its reply
// is written (or its handler returned nil, for acks=0): its frame is
// memory the broker holds. Before reading a request's body the reader
// asks the budget; when the request does not fit it stops reading the
// socket until replies are written, so a client that pipelines requests
// and never reads the answers only fills its own socket buffers (Kafka's
// network threads mute such a channel; Kafka reads one request per
// connection at a time). Nothing is dropped or refused.
//
// A request fits when its connection has nothing else in flight (always:
// else a frame over a bound, or a bound spent by other connections, would
// stall the connection for good), or when all of these hold:
//
//   - the connection has fewer than MaxInFlight requests in flight;
//   - its bytes in flight plus the new frame stay within
//     RequestLimits.PerConnBytes;
//   - fewer than RequestLimits.QueuedRequests requests are queued
//     broker-wide (queued.max.requests): a queued request is one read
//     while an earlier request on its connection is unanswered, Sluice's
//     counterpart of a request waiting in Kafka's request queue;
//   - the bytes in flight on all connections plus the new frame stay
//     within RequestLimits.QueuedBytes (queued.max.request.bytes).
//
// The counters are atomics: admitting and releasing a request costs no
// lock and no allocation. A reader that must wait registers as a waiter
// and sleeps on a channel that a release closes while waiters exist.

// RequestLimits bound the requests read and not yet answered.
type RequestLimits struct {
	// PerConnBytes bounds the bytes in flight on one connection
	// (sluice.queued.max.request.bytes.per.connection); <= 0: no bound.
	PerConnBytes int64
	// QueuedRequests bounds the requests queued behind an earlier one on
	// their connection, over all connections (queued.max.requests);
	// <= 0: no bound.
	QueuedRequests int
	// QueuedBytes bounds the bytes in flight over all connections
	// (queued.max.request.bytes); <= 0: no bound.
	QueuedBytes int64
}

// DefaultPerConnBytes is the default of
// sluice.queued.max.request.bytes.per.connection: 32 MiB lets a client
// keep several large produce requests in flight (5 of Kafka's default
// max.request.size of 1 MiB use 5 MiB), while a connection that pipelines
// requests and never reads the answers holds at most that much, or one
// request up to socket.request.max.bytes.
const DefaultPerConnBytes = 32 << 20

// budget is the request budget of a listener. Safe for concurrent use.
type budget struct {
	maxInFlight int32
	perConn     int64 // math.MaxInt64 when unbounded
	maxQueued   int64 // 0 when unbounded
	maxBytes    int64 // 0 when unbounded

	queued  atomic.Int64 // requests read behind another on their connection; kept only when maxQueued > 0
	bytes   atomic.Int64 // bytes in flight; kept only when maxBytes > 0
	waiters atomic.Int32 // readers waiting for room

	mu    sync.Mutex
	freed chan struct{} // closed and replaced by a release while waiters > 0; guarded by mu
}

func newBudget(maxInFlight int, l RequestLimits) *budget {
	b := &budget{maxInFlight: int32(maxInFlight), perConn: l.PerConnBytes, freed: make(chan struct{})}
	if b.perConn <= 0 {
		b.perConn = math.MaxInt64
	}
	b.maxQueued = max(int64(l.QueuedRequests), 0)
	b.maxBytes = max(l.QueuedBytes, 0)
	return b
}

// inFlight is a connection's share of the budget, written by its reader
// (admit) and its writer (release).
type inFlight struct {
	reqs   atomic.Int32
	bytes  atomic.Int64
	queued atomic.Int64 // of reqs, those counted in budget.queued
}

// ticket is one admitted request's claim on the budget.
type ticket struct {
	size   int64
	queued bool // read behind another request on its connection
}

// admit waits until an n-byte request fits on f's connection and claims
// room for it. It fails only when ctx ends.
func (b *budget) admit(ctx context.Context, f *inFlight, n int64) (ticket, error) {
	if t, ok := b.tryAdmit(f, n); ok {
		return t, nil
	}
	b.waiters.Add(1)
	defer b.waiters.Add(-1)
	for {
		b.mu.Lock()
		freed := b.freed
		b.mu.Unlock()
		// Registered as a waiter before this try: a release after it
		// closes freed.
		if t, ok := b.tryAdmit(f, n); ok {
			return t, nil
		}
		select {
		case <-freed:
		case <-ctx.Done():
			return ticket{}, ctx.Err()
		}
	}
}

// tryAdmit claims room for an n-byte request if it fits.
func (b *budget) tryAdmit(f *inFlight, n int64) (ticket, bool) {
	t := ticket{size: n}
	if reqs := f.reqs.Load(); reqs > 0 { // only its writer may lower these meanwhile
		if reqs >= b.maxInFlight || f.bytes.Load() > b.perConn-n {
			return t, false
		}
		if b.maxQueued > 0 && !addWithin(&b.queued, 1, b.maxQueued) {
			return t, false
		}
		if b.maxBytes > 0 && !addWithin(&b.bytes, n, b.maxBytes) {
			if b.maxQueued > 0 {
				b.queued.Add(-1)
				b.wake() // a reader may have failed on the queued count meanwhile
			}
			return t, false
		}
		t.queued = true
		f.queued.Add(1)
	} else if b.maxBytes > 0 {
		b.bytes.Add(n)
	}
	f.reqs.Add(1)
	f.bytes.Add(n)
	return t, true
}

// addWithin adds delta to c unless that takes it over limit.
func addWithin(c *atomic.Int64, delta, limit int64) bool {
	for {
		cur := c.Load()
		if cur > limit-delta {
			return false
		}
		if c.CompareAndSwap(cur, cur+delta) {
			return true
		}
	}
}

// release returns an answered request's room and wakes waiting readers.
func (b *budget) release(f *inFlight, t ticket) {
	f.reqs.Add(-1)
	f.bytes.Add(-t.size)
	if t.queued {
		f.queued.Add(-1)
		if b.maxQueued > 0 {
			b.queued.Add(-1)
		}
	}
	if b.maxBytes > 0 {
		b.bytes.Add(-t.size)
	}
	b.wake()
}

// releaseAll returns what a connection that ended still holds: requests
// whose replies were never written. Its reader and writer have stopped.
func (b *budget) releaseAll(f *inFlight) {
	f.reqs.Store(0)
	by := f.bytes.Swap(0)
	if q := f.queued.Swap(0); b.maxQueued > 0 {
		b.queued.Add(-q)
	}
	if b.maxBytes > 0 {
		b.bytes.Add(-by)
	}
	b.wake()
}

// wake wakes the waiting readers, if any.
func (b *budget) wake() {
	if b.waiters.Load() == 0 {
		return
	}
	b.mu.Lock()
	close(b.freed)
	b.freed = make(chan struct{})
	b.mu.Unlock()
}
