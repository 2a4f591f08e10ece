package storage

import (
	"time"
)

// Segment deletion follows Kafka: the files are renamed to *.deleted at
// once (so a restart never serves them and removes them), and removed, and
// the segment's descriptors closed, after file.delete.delay.ms. Readers pin
// segments with a reference count for the length of a call, and Chunks
// handed to callers stay valid for the delay. The last reference closes the
// files.

// deleteSegmentsLocked renames segs (already out of the segment list) and
// schedules their removal. Called under mu.
func (l *Log) deleteSegmentsLocked(segs []*segment) {
	for _, s := range segs {
		if err := s.renameDeleted(); err != nil {
			l.failLocked(err)
		}
		l.scheduleRemovalLocked(s)
	}
}

// scheduleRemovalLocked accounts for s, whose files were already renamed
// *.deleted, and closes and removes them after file.delete.delay.ms. The
// cleaner's swap calls it directly: it must rename the replaced segments
// before the cleaned one takes their name. Called under mu.
func (l *Log) scheduleRemovalLocked(s *segment) {
	l.bytes.Add(-s.size.Load())
	l.dirDirty = true
	delay := time.Duration(l.cfg.FileDeleteDelayMs) * time.Millisecond
	if delay <= 0 || l.closed {
		s.removeDeleted()
		s.release()
		return
	}
	l.bg.Add(1)
	l.pendingDeletes[s] = time.AfterFunc(delay, func() { l.finishDelete(s) })
}

// finishDelete runs when a segment's delay has passed.
func (l *Log) finishDelete(s *segment) {
	defer l.bg.Done()
	l.mu.Lock()
	_, ok := l.pendingDeletes[s]
	if ok {
		delete(l.pendingDeletes, s)
	}
	l.mu.Unlock()
	if ok {
		s.removeDeleted()
		s.release()
	}
}

// finishPendingDeletes completes every scheduled deletion now (Close).
func (l *Log) finishPendingDeletes() {
	l.mu.Lock()
	pending := l.pendingDeletes
	l.pendingDeletes = make(map[*segment]*time.Timer)
	l.mu.Unlock()
	for s, t := range pending {
		if t.Stop() {
			l.bg.Done()
		}
		s.removeDeleted()
		s.release()
	}
}
