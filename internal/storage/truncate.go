package storage

import (
	"fmt"

	"github.com/sluice-io/sluice/internal/model"
)

// TruncateTo removes every batch at or after off (follower truncation after
// a leader change, KIP-101). A batch holding off is removed whole, so the
// log end offset becomes a batch boundary <= off. Segments above go through
// the delayed delete; the truncated segment becomes the active one. The
// recovery point, the leader epoch cache and the checkpoint follow, durably.
// Truncating below the first segment empties the log and restarts it at off.
func (l *Log) TruncateTo(off model.Offset) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.writableLocked(); err != nil {
		return err
	}
	if off >= l.next {
		// Nothing to cut, but an epoch may start at the log end: this
		// replica led in it (MakeLeader assigned it) and wrote nothing
		// before another leader was elected. Left in place, every fetch
		// would name it as the last fetched epoch, the leader would
		// answer the same divergence, and the follower would truncate to
		// the same offset forever (found by the fault suite: a paused
		// leader never rejoined the ISR). Kafka's truncateTo drops it too.
		if l.epochs.truncateFromEnd(l.next) {
			if err := l.epochs.persist(); err != nil {
				l.failLocked(err)
				return fmt.Errorf("truncate to %d: %w: %w", off, ErrLogFailed, err)
			}
		}
		return nil
	}
	if err := l.removeMarkLocked(); err != nil { // before any byte it covers goes
		l.failLocked(err)
		return fmt.Errorf("truncate to %d: %w: %w", off, ErrLogFailed, err)
	}
	segs := l.segments()
	if off < segs[0].base {
		return l.truncateFullyLocked(off)
	}
	i := floorSegment(segs, off)
	s := segs[i]
	s.makeActive(int64(l.cfg.SegmentIndexBytes)) // it becomes the active segment
	fs, err := s.pinWritable()
	if err != nil {
		return l.failUnlessExhaustedLocked(fmt.Sprintf("truncate to %d", off), err)
	}
	err = l.truncateSegmentLocked(s, fs, off)
	s.unpin(fs)
	if err != nil {
		l.failLocked(err)
		return fmt.Errorf("truncate to %d: %w: %w", off, ErrLogFailed, err)
	}
	if doomed := segs[i+1:]; len(doomed) > 0 {
		l.publish(append([]*segment(nil), segs[:i+1]...))
		l.deleteSegmentsLocked(doomed)
	}
	l.next = s.next
	l.leo.Store(int64(l.next))
	if lso := model.Offset(l.lso.Load()); lso > l.next {
		l.lso.Store(int64(l.next))
	}
	return l.afterTruncateLocked()
}

// truncateSegmentLocked cuts s, made writable (its set fs pinned by
// pinWritable), at the batch holding off.
func (l *Log) truncateSegmentLocked(s *segment, fs *fileSet, off model.Offset) error {
	size := s.size.Load()
	b, found, err := s.locate(fs, off, size)
	if err != nil {
		return err
	}
	if !found {
		return nil // off lies after the segment's data
	}
	s.size.Store(b.pos)
	l.bytes.Add(b.pos - size)
	if err := fs.log.Truncate(b.pos); err != nil {
		return fmt.Errorf("truncate segment %d: %w", s.base, err)
	}
	s.offIdx.truncateTo(off)
	s.timeIdx.truncateTo(off)
	if err := s.truncateTxnIndex(off); err != nil {
		return err
	}
	s.bytesSinceIndex = 0
	if b.pos == 0 {
		s.createdMs = l.nowMs()
	}
	if err := s.loadTail(fs, true); err != nil {
		return err
	}
	if b.pos > 0 {
		s.next = b.base
	}
	return l.fsync(fs.log)
}

// TruncateFullyAndStartAt deletes every segment and restarts the log empty
// at off (a follower whose fetch offset fell out of the leader's range).
func (l *Log) TruncateFullyAndStartAt(off model.Offset) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.writableLocked(); err != nil {
		return err
	}
	return l.truncateFullyLocked(off)
}

func (l *Log) truncateFullyLocked(off model.Offset) error {
	if err := l.removeMarkLocked(); err != nil {
		l.failLocked(err)
		return fmt.Errorf("truncate fully to %d: %w: %w", off, ErrLogFailed, err)
	}
	doomed := l.segments()
	s, err := createSegment(l.dir, off, l.files, l.cfg, l.nowMs())
	if err != nil {
		return l.failUnlessExhaustedLocked(fmt.Sprintf("truncate fully to %d", off), err)
	}
	l.publish([]*segment{s})
	l.deleteSegmentsLocked(doomed)
	l.needIndexSync = nil
	l.next = off
	l.leo.Store(int64(off))
	l.lso.Store(int64(off))
	l.epochs.entries = nil
	l.deleteProducerSnapshotsAfter(-1) // all: they describe the old log
	return l.afterTruncateLocked()
}

// afterTruncateLocked lowers the recovery point, trims the leader epoch
// cache and writes both checkpoints, so a crash cannot resurrect the
// removed batches as trusted data.
func (l *Log) afterTruncateLocked() error {
	l.deleteProducerSnapshotsAfter(l.next) // producer_snapshot.go
	l.flush.lower(l.next)
	l.epochs.truncateFromEnd(l.next)
	err := l.epochs.persist()
	if err == nil {
		err = l.lowerCleanerOffsetLocked(l.next) // compaction: re-appended offsets are dirty
	}
	if err == nil {
		err = syncDir(l.dir)
		l.dirDirty = false
	}
	if err == nil {
		err = l.writeCheckpoint(checkpoint{})
	}
	if err != nil {
		l.failLocked(err)
		return fmt.Errorf("truncate: %w: %w", ErrLogFailed, err)
	}
	return nil
}
