package storage

import (
	"fmt"

	"github.com/sluice-io/sluice/internal/model"
)

// DeleteRecordsBefore serves the DeleteRecords API: it raises the log start
// offset to off (durably, before returning) and deletes the segments that
// lie wholly below it. off must not exceed the log end offset; the caller
// checks it against the high watermark as Kafka does.
func (l *Log) DeleteRecordsBefore(off model.Offset) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.writableLocked(); err != nil {
		return err
	}
	if off > l.next || off < 0 {
		return fmt.Errorf("delete records before %d: %w (log end %d)", off, ErrOffsetOutOfRange, l.next)
	}
	if off <= model.Offset(l.lso.Load()) {
		return nil
	}
	if err := l.raiseLogStartOffsetLocked(off); err != nil {
		return err
	}
	if err := l.writeCheckpoint(checkpoint{}); err != nil {
		l.failLocked(err)
		return fmt.Errorf("delete records: %w: %w", ErrLogFailed, err)
	}
	l.deleteLogStartOffsetBreachedLocked()
	return nil
}

// raiseLogStartOffsetLocked moves the log start offset up and trims the
// leader epoch cache from the start (Kafka's maybeIncrementLogStartOffset).
func (l *Log) raiseLogStartOffsetLocked(off model.Offset) error {
	if off <= model.Offset(l.lso.Load()) {
		return nil
	}
	l.lso.Store(int64(off))
	if l.epochs.truncateFromStart(off) {
		if err := l.epochs.persist(); err != nil {
			l.failLocked(err)
			return fmt.Errorf("%w: %w", ErrLogFailed, err)
		}
	}
	return nil
}

// ApplyRetention deletes old segments by Kafka's rules (see
// ApplyRetentionUpTo), allowing any segment below the log end offset.
func (l *Log) ApplyRetention(nowMs int64) (deletedSegments int, err error) {
	return l.ApplyRetentionUpTo(nowMs, model.Offset(l.leo.Load()))
}

// ApplyRetentionUpTo deletes whole segments, oldest first, as Kafka's
// deleteOldSegments does: segments wholly below the log start offset;
// then, when cleanup.policy has "delete", segments while the log exceeds
// retention.bytes by at least their size, and segments whose largest
// timestamp (file time when none) is older than retention.ms. Only segments
// that end at or below highWatermark go. An active segment with data that
// must go is rolled first; an empty active segment stays. The log start
// offset moves up to the first remaining segment.
func (l *Log) ApplyRetentionUpTo(nowMs int64, highWatermark model.Offset) (deletedSegments int, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.writableLocked(); err != nil {
		return 0, err
	}
	n := l.deleteLogStartOffsetBreachedLocked()
	if !l.cfg.deleteEnabled() {
		return n, nil
	}
	if rb := l.cfg.RetentionBytes; rb >= 0 {
		diff := l.bytes.Load() - rb
		k, err := l.deleteOldestLocked(highWatermark, func(s *segment, _ *segment) bool {
			if diff-s.size.Load() < 0 {
				return false
			}
			diff -= s.size.Load()
			return true
		})
		n += k
		if err != nil {
			return n, err
		}
	}
	if rm := l.cfg.RetentionMs; rm >= 0 {
		k, err := l.deleteOldestLocked(highWatermark, func(s *segment, _ *segment) bool {
			return nowMs-s.largestTimestamp() > rm
		})
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// deleteLogStartOffsetBreachedLocked deletes the segments whose successor
// starts at or below the log start offset.
func (l *Log) deleteLogStartOffsetBreachedLocked() int {
	lso := model.Offset(l.lso.Load())
	n, _ := l.deleteOldestLocked(lso, func(_ *segment, next *segment) bool {
		return next != nil && next.base <= lso
	})
	return n
}

// deleteOldestLocked deletes the longest prefix of segments that satisfy
// shouldDelete and end at or below upTo (Kafka's deletableSegments).
func (l *Log) deleteOldestLocked(upTo model.Offset, shouldDelete func(s, next *segment) bool) (int, error) {
	segs := l.segments()
	k := 0
	for k < len(segs) {
		s := segs[k]
		var next *segment
		end := l.next
		if k+1 < len(segs) {
			next, end = segs[k+1], segs[k+1].base
		}
		if (next == nil && s.size.Load() == 0) || end > upTo || !shouldDelete(s, next) {
			break
		}
		k++
	}
	if k == 0 {
		return 0, nil
	}
	if k == len(segs) {
		// Everything goes, the active segment included: roll it first.
		if err := l.rollLocked(l.next); err != nil {
			return 0, err
		}
		segs = l.segments()
	}
	doomed := segs[:k]
	l.publish(append([]*segment(nil), segs[k:]...))
	l.deleteSegmentsLocked(doomed)
	l.deleteProducerSnapshotsBefore(segs[k].base) // producer_snapshot.go
	if err := l.raiseLogStartOffsetLocked(segs[k].base); err != nil {
		return k, err
	}
	return k, nil
}

// largestTimestamp is Kafka's LogSegment.largestTimestamp: the largest
// batch timestamp, or the file's modification time when no batch has one.
func (s *segment) largestTimestamp() int64 {
	if ts := s.maxTs.Load(); ts >= 0 {
		return ts
	}
	return s.modTime()
}
