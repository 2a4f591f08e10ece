package storage

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluice-io/sluice/internal/model"
)

// flusher is the group-commit state of one Log.
//
// There is no flusher goroutine. The first caller of WaitDurable that finds
// its offsets unsynced and no sync running becomes the syncer: it snapshots
// the log end offset, fdatasyncs every segment written since the recovery
// point, then publishes the new durable offset and wakes everyone. Callers
// arriving while a sync runs wait for it, and one of them runs the next
// round, which covers every append made before it started. So at most one
// fsync runs per Log, each covers all waiters present at its start, and an
// idle partition costs nothing.
//
// Safe for concurrent use.
type flusher struct {
	mu      sync.Mutex
	durable model.Offset  // every offset below is on stable storage
	gen     uint64        // bumped by truncation: a round started before must not raise durable
	syncing atomic.Bool   // a round is running; set under mu, read without it by appends (raw writes when false)
	done    chan struct{} // closed when the running round ends
	err     error         // sticky: a failed fsync leaves the log in doubt
}

func (f *flusher) durableOffset() model.Offset {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.durable
}

// snapshot returns the durable offset and generation (called under Log.mu
// so it is consistent with the writer's state).
func (f *flusher) snapshot() (model.Offset, uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.durable, f.gen
}

// lower moves durable down to off after a truncation.
func (f *flusher) lower(off model.Offset) {
	f.mu.Lock()
	f.gen++
	f.durable = min(f.durable, off)
	f.mu.Unlock()
}

// reset sets durable (Open, before the log is shared).
func (f *flusher) reset(off model.Offset) { f.durable = off }

// WaitDurable blocks until every offset below end is on stable storage
// (acks=all). Concurrent callers share fsyncs (group commit). It returns
// ctx's error if ctx ends first (the sync still completes for others), and
// ErrOffsetOutOfRange if end is past the log end (truncated meanwhile).
func (l *Log) WaitDurable(ctx context.Context, end model.Offset) error {
	return l.waitDurable(ctx, end)
}

// Flush fsyncs everything appended so far and advances the recovery point.
func (l *Log) Flush() error {
	return l.waitDurable(context.Background(), model.Offset(l.leo.Load()))
}

func (l *Log) waitDurable(ctx context.Context, end model.Offset) error {
	return l.groupSync(ctx, end, false)
}

// syncNow runs one full round even when nothing new was appended (Close
// needs the final index entries synced).
func (l *Log) syncNow() error { return l.groupSync(context.Background(), 0, true) }

func (l *Log) groupSync(ctx context.Context, end model.Offset, force bool) error {
	f := &l.flush
	for {
		f.mu.Lock()
		if !force && f.durable >= end {
			f.mu.Unlock()
			return nil
		}
		if f.err != nil {
			err := f.err
			f.mu.Unlock()
			return err
		}
		if f.syncing.Load() {
			ch := f.done
			f.mu.Unlock()
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if !force && end > model.Offset(l.leo.Load()) {
			f.mu.Unlock()
			return fmt.Errorf("wait durable %d: %w (log end %d)", end, ErrOffsetOutOfRange, l.leo.Load())
		}
		f.syncing.Store(true)
		f.done = make(chan struct{})
		f.mu.Unlock()
		err := l.runRound()
		if force || err != nil {
			return err
		}
	}
}

// runRound runs one sync round and publishes its outcome. The caller set
// f.syncing.
func (l *Log) runRound() error {
	f := &l.flush
	target, gen, err := l.syncRound()
	f.mu.Lock()
	if err != nil && f.err == nil && !errors.Is(err, ErrResourceExhausted) {
		f.err = err
	}
	if err == nil && gen == f.gen {
		f.durable = max(f.durable, target)
	}
	f.syncing.Store(false)
	close(f.done)
	f.mu.Unlock()
	if err == nil {
		l.maybeCheckpointRecovery()
	}
	return err
}

// syncRound is one group commit: it fdatasyncs every segment that may hold
// bytes written since the durable offset, the indexes of segments rolled
// since the last round, a leader epoch checkpoint replaced by an append,
// and the directory when files came or went. It
// returns the log end offset it covered.
func (l *Log) syncRound() (model.Offset, uint64, error) {
	l.mu.Lock()
	if l.filesClosed {
		l.mu.Unlock()
		return 0, 0, ErrClosed
	}
	if l.failed != nil {
		err := fmt.Errorf("%w: %w", ErrLogFailed, l.failed)
		l.mu.Unlock()
		return 0, 0, err
	}
	target := l.next
	durable, gen := l.flush.snapshot()
	fss := l.cfg.FSSync
	var logs []*segment // the segment files to fdatasync (syncfs covers them)
	if fss == nil && durable < target {
		segs := l.segments()
		for _, s := range segs[floorSegment(segs, durable):] {
			if s.acquire() {
				logs = append(logs, s)
			}
		}
	}
	idx := l.needIndexSync[:0:0]
	for _, s := range l.needIndexSync {
		if s.acquire() {
			idx = append(idx, s)
		}
	}
	l.needIndexSync = nil
	dirDirty, epochsDirty, unflushed := l.dirDirty, l.epochsDirty, l.unflushed
	l.dirDirty, l.epochsDirty = false, false
	l.unflushed = 0
	// With FSSync, a round that began after the last append covers the
	// appends; other changes (files created, renamed, rolled indexes)
	// and Close's final index writes are not stamped, so they need a round
	// that begins from now.
	fsBegun := l.fsBegun
	if fss != nil && (dirDirty || epochsDirty || len(idx) > 0 || l.closed) {
		fsBegun = fss.Begun()
	}
	l.mu.Unlock()

	if l.onSync != nil {
		l.onSync()
	}
	var err error
	if fss != nil {
		err = l.syncFS(fss, fsBegun, idx)
	} else {
		err = l.syncFiles(logs, idx, epochsDirty, dirDirty)
	}
	for _, s := range logs {
		s.release()
	}
	for _, s := range idx {
		s.release()
	}
	if err != nil && errors.Is(err, ErrResourceExhausted) {
		// An open failed, which loses nothing: the next round does it all
		// again. Only the waiters of this round fail.
		l.mu.Lock()
		l.needIndexSync = append(idx, l.needIndexSync...)
		l.dirDirty = l.dirDirty || dirDirty
		l.epochsDirty = l.epochsDirty || epochsDirty
		l.unflushed += unflushed
		l.mu.Unlock()
		return 0, 0, fmt.Errorf("sync: %w", err)
	}
	if err != nil {
		l.mu.Lock()
		l.failLocked(err)
		l.mu.Unlock()
		return 0, 0, fmt.Errorf("%w: %w", ErrLogFailed, err)
	}
	return target, gen, nil
}

func (l *Log) syncFiles(logs, idx []*segment, epochsDirty, dirDirty bool) error {
	for _, s := range logs {
		fs, err := s.pin() // a set closed since the writes: fsync reaches the inode by any descriptor
		if errors.Is(err, errSegmentGone) {
			continue // deleted: nothing to keep
		}
		if err == nil {
			err = l.fsync(fs.log)
			s.unpin(fs)
		}
		if err != nil {
			return fmt.Errorf("sync segment %d: %w", s.base, err)
		}
	}
	for _, s := range idx {
		if err := s.syncIndexes(l.fsync); err != nil {
			return err
		}
	}
	if epochsDirty {
		if err := l.syncEpochCheckpoint(); err != nil {
			return err
		}
	}
	if dirDirty {
		return syncDir(l.dir)
	}
	return nil
}

// syncFS is syncFiles by one shared syncfs, begun after round begun, which
// covers every file and directory of the log. The rolled segments' indexes
// are still visited so they release their descriptors (a nil fsync).
func (l *Log) syncFS(fss *FSSync, begun uint64, idx []*segment) error {
	if err := fss.SyncAfter(begun); err != nil {
		return err
	}
	for _, s := range idx {
		if err := s.syncIndexes(nil); err != nil {
			return err
		}
	}
	return nil
}

// floorSegment returns the index of the last segment whose base is <= off,
// or 0 when off is below every segment.
func floorSegment(segs []*segment, off model.Offset) int {
	lo, hi := 0, len(segs)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if segs[mid].base <= off {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return max(lo-1, 0)
}

// maybeCheckpointRecovery rewrites the checkpoint when the recovery point
// moved into another segment: recovery rescans whole segments from the one
// holding the recovery point, so a finer checkpoint would buy nothing.
func (l *Log) maybeCheckpointRecovery() {
	segs := l.segments()
	base := segs[floorSegment(segs, l.flush.durableOffset())].base
	l.ckMu.Lock()
	same := base == l.ckRecoveryBase
	l.ckMu.Unlock()
	if !same {
		// Out of descriptors, the checkpoint keeps an older recovery
		// point, which only makes a recovery scan more; the next round
		// writes it.
		if err := l.writeCheckpoint(checkpoint{}); err != nil && !errors.Is(err, ErrResourceExhausted) {
			l.mu.Lock()
			l.failLocked(err)
			l.mu.Unlock()
		}
	}
}

// flushAfterAppendLocked arms the flush.ms timer. Called under mu.
func (l *Log) armFlushTimerLocked() {
	if l.flushArmed || l.closed || !l.cfg.flushMsEnabled() {
		return
	}
	l.flushArmed = true
	l.bg.Add(1)
	l.flushTimer = time.AfterFunc(time.Duration(l.cfg.FlushMs)*time.Millisecond, l.flushTimerFired)
}

func (l *Log) flushTimerFired() {
	defer l.bg.Done()
	l.mu.Lock()
	l.flushArmed = false
	closed, end := l.closed, l.next
	l.mu.Unlock()
	if !closed {
		l.waitDurable(context.Background(), end)
	}
}

// flushInBackground starts a sync up to end without waiting (after a roll,
// as Kafka flushes a rolled segment asynchronously). Called under mu.
func (l *Log) flushInBackground(end model.Offset) {
	l.bg.Add(1)
	go func() {
		defer l.bg.Done()
		l.waitDurable(context.Background(), end)
	}()
}
