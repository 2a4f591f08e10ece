package storage

import (
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Writeback writes appended log data to disk a little at a time, behind
// the writers, so that the page cache never holds much dirty log data.
//
// Why: data appended without an fsync (acks=0/1, or acks=all between two
// sync rounds) stays dirty until the kernel writes it back, which it does
// in bulk, after dirty_expire_centisecs (30 s) or above
// dirty_background_ratio, by filling the device's queue. Every other I/O
// of the machine then waits behind that queue: measured with
// bench/syncstall on a virtio disk, an O_DIRECT read took up to 370 ms and
// an acks=all sync (write + fdatasync) up to 1 s while 2 GiB were being
// written back, against under 20 ms and 150 ms when the same 2 GiB were
// written back in 4 MiB steps with at most two steps in flight. Sluice
// cannot pace other processes, but it can keep its own data from
// becoming such a flood.
//
// How: an append that leaves at least Chunk bytes of a segment not yet
// handed over queues that page-aligned range; one goroutine starts the
// writeback of each range (sync_file_range SYNC_FILE_RANGE_WRITE), and
// before starting a range it waits for all but the newest started one to
// reach the disk, so at most two ranges (2 x Chunk bytes) of Sluice's
// writeback are in the device queue at a time. It never makes anything
// durable by itself (no metadata, no cache flush: the sync rounds do
// that) and never blocks an append: when the queue is full the range
// stays with the log and the next append queues it, longer.
//
// Safe for concurrent use.
type Writeback struct {
	chunk int64

	mu      sync.Mutex
	queue   []wbRange
	closed  atomic.Bool   // written under mu
	wake    chan struct{} // cap 1
	done    chan struct{} // closed when the goroutine ends
	started []wbRange     // handed to the kernel, not yet waited for; the goroutine's own

	rangeSync func(fd uintptr, off, n int64, flags int) error // sync_file_range; a seam for tests
}

// wbRange is [from, to) of one segment's log file; the range holds a
// reference on the segment (acquire) until it is done with.
type wbRange struct {
	seg      *segment
	from, to int64
}

// wbQueueMax bounds the ranges waiting: beyond it, appends keep their
// ranges (which then grow) instead of queueing more.
const wbQueueMax = 256

// NewWriteback starts a writeback pacer that writes back chunk bytes at a
// time (rounded up to a page); Close stops it.
func NewWriteback(chunk int64) *Writeback {
	return newWriteback(chunk, func(fd uintptr, off, n int64, flags int) error {
		return unix.SyncFileRange(int(fd), off, n, flags)
	})
}

func newWriteback(chunk int64, rangeSync func(fd uintptr, off, n int64, flags int) error) *Writeback {
	w := &Writeback{
		chunk:     max(pageSize, (chunk+pageSize-1)&^(pageSize-1)),
		wake:      make(chan struct{}, 1),
		done:      make(chan struct{}),
		rangeSync: rangeSync,
	}
	go w.run()
	return w
}

const pageSize = 4096

// Chunk is the writeback step in bytes.
func (w *Writeback) Chunk() int64 { return w.chunk }

// Close stops the pacer once the ranges it holds are started; what is
// still queued is left to the kernel (and the logs' own sync rounds).
func (w *Writeback) Close() error {
	w.mu.Lock()
	if w.closed.Load() {
		w.mu.Unlock()
		<-w.done
		return nil
	}
	w.closed.Store(true)
	q := w.queue
	w.queue = nil
	w.mu.Unlock()
	for _, r := range q {
		r.seg.release()
	}
	select {
	case w.wake <- struct{}{}:
	default:
	}
	<-w.done
	return nil
}

// offer queues [from, to) of seg's log file for writeback and reports
// whether it took it (false: full or closed; the caller keeps the range).
// Called by an append under Log.mu; never blocks.
func (w *Writeback) offer(seg *segment, from, to int64) bool {
	w.mu.Lock()
	if w.closed.Load() || len(w.queue) >= wbQueueMax || !seg.acquire() {
		w.mu.Unlock()
		return false
	}
	w.queue = append(w.queue, wbRange{seg: seg, from: from, to: to})
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
	return true
}

func (w *Writeback) run() {
	defer close(w.done)
	for {
		w.mu.Lock()
		q, closed := w.queue, w.closed.Load()
		w.queue = nil
		w.mu.Unlock()
		if closed {
			w.waitStarted(0)
			return
		}
		if len(q) == 0 {
			// Nothing new: finish the started ranges, so their
			// references go, then sleep.
			w.waitStarted(0)
			<-w.wake
			continue
		}
		for _, r := range q {
			// Close stops the pacer between two steps: what is left
			// goes to the kernel.
			for from := r.from; from < r.to && !w.closed.Load(); from += w.chunk {
				w.waitStarted(1)
				w.start(wbRange{seg: r.seg, from: from, to: min(from+w.chunk, r.to)})
			}
			r.seg.release()
		}
	}
}

// start hands one range to the kernel and remembers it.
func (w *Writeback) start(r wbRange) {
	if !r.seg.acquire() {
		return // closed for good meanwhile
	}
	if w.sync(r, unix.SYNC_FILE_RANGE_WRITE) {
		w.started = append(w.started, r)
		return
	}
	r.seg.release()
}

// waitStarted waits until at most keep started ranges are in flight.
func (w *Writeback) waitStarted(keep int) {
	for len(w.started) > keep {
		r := w.started[0]
		w.started = w.started[1:]
		w.sync(r, unix.SYNC_FILE_RANGE_WAIT_BEFORE|unix.SYNC_FILE_RANGE_WRITE|unix.SYNC_FILE_RANGE_WAIT_AFTER)
		r.seg.release()
	}
	if len(w.started) == 0 {
		w.started = nil // let the slice's array go
	}
}

// sync runs one sync_file_range on r through a pinned file set. A segment
// deleted or out of descriptors is skipped: writeback is an optimisation,
// the kernel writes the data back anyway.
func (w *Writeback) sync(r wbRange, flags int) bool {
	fs, err := r.seg.pin()
	if err != nil {
		return false
	}
	defer r.seg.unpin(fs)
	return w.rangeSync(fs.log.Fd(), r.from, r.to-r.from, flags) == nil
}

// offerWritebackLocked hands the pacer the part of s's log file written
// since the last range it took, once that is at least a chunk, in whole
// pages (the page being appended to stays out). The bytes before the
// first append of this process (a reopened segment) are left to the
// kernel. Called under Log.mu after an append ending at end, when the
// log has a pacer.
func (l *Log) offerWritebackLocked(s *segment, start, end int64) {
	w := l.cfg.Writeback
	if !s.wbSeen || s.wbOffered > start {
		s.wbSeen, s.wbOffered = true, start&^(pageSize-1) // first append here, or after a truncation
	}
	end &^= pageSize - 1
	if end-s.wbOffered >= w.chunk && w.offer(s, s.wbOffered, end) {
		s.wbOffered = end
	}
}
