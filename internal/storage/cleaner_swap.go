package storage

import (
	"fmt"
	"os"

	"github.com/sluice-io/sluice/internal/model"
)

// swapCleaned replaces group with the cleaned segment w (Kafka's
// LocalLog.replaceSegments), under mu so no append, roll, retention or
// truncation interleaves. swapped is false, with nothing changed, when
// the log moved on since the pass began (a truncation, or group no longer
// in the segment list). The steps, each crash safe:
//
//  1. rename w's files *.cleaned -> *.swap, the log file last, and sync
//     the directory: from here Open completes the swap;
//  2. rename the replaced segments' files *.deleted (open descriptors keep
//     serving readers that pinned them);
//  3. rename w's .txnindex.swap to its final name (removing it when
//     empty) and sync the directory, then the other *.swap files, the log
//     last, and sync the directory again;
//  4. publish the new segment list and schedule the replaced segments'
//     removal after file.delete.delay.ms.
//
// The replaced segments' transaction indexes are loaded and marked
// replaced before their files move: readers that pinned them keep their
// entries, and an AppendAbortedTxn that reaches one waits for the new list.
//
// swapCleaned owns w: when it does not swap w in, it removes w's files
// (before step 1) or leaves them for Open (an I/O error from step 1 on
// fails the log: Open finishes the job).
func (l *Log) swapCleaned(p *cleanPass, group []*segment, w *segment) (swapped bool, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.writableLocked(); err != nil {
		discardCleaned(w)
		return false, err
	}
	if !l.stillHolds(p, group) {
		discardCleaned(w)
		return false, nil
	}
	segs := l.segments()
	i := floorSegment(segs, group[0].base)
	// A reader still holding a replaced segment must not read its
	// transaction index from a name that is about to change hands (its
	// offset and time indexes follow the rename: renameDeleted).
	for _, s := range group {
		if err := s.txnIdx.load(s.txnIndexPath()); err != nil {
			discardCleaned(w)
			return false, err
		}
	}
	for _, s := range group {
		s.txnIdx.markReplaced()
	}
	if err := l.swapFiles(group, w); err != nil {
		w.release()
		l.failLocked(err)
		return false, fmt.Errorf("swap cleaned segment %d: %w: %w", w.base, ErrLogFailed, err)
	}
	next := make([]*segment, 0, len(segs)-len(group)+1)
	next = append(next, segs[:i]...)
	next = append(next, w)
	next = append(next, segs[i+len(group):]...)
	l.publish(next)
	l.bytes.Add(w.size.Load())
	for _, s := range group {
		l.scheduleRemovalLocked(s)
	}
	return true, nil
}

// stillHolds reports whether group is still a run of the segment list,
// followed by at least one segment, with no truncation since the pass
// began. Called under mu.
func (l *Log) stillHolds(p *cleanPass, group []*segment) bool {
	segs := l.segments()
	i := floorSegment(segs, group[0].base)
	if _, gen := l.flush.snapshot(); gen != p.gen || i+len(group) >= len(segs) {
		return false
	}
	for j, s := range group {
		if segs[i+j] != s {
			return false
		}
	}
	return true
}

// swapFiles runs steps 1 to 3 of swapCleaned.
func (l *Log) swapFiles(group []*segment, w *segment) error {
	suffixes := []string{indexSuffix, timeIndexSuffix, txnIndexSuffix, logSuffix} // the log last: it marks the swap
	for _, suf := range suffixes {
		if err := os.Rename(cleanedName(w.dir, w.base, suf), segmentName(w.dir, w.base, suf+swapSuffix)); err != nil {
			return err
		}
	}
	if err := syncDir(l.dir); err != nil {
		return err
	}
	if err := l.cleanerHook(stepSwapped); err != nil {
		return err
	}
	for _, s := range group {
		if err := s.renameDeleted(); err != nil {
			return err
		}
	}
	if err := l.cleanerHook(stepOldDeleted); err != nil {
		return err
	}
	// The transaction index first, made durable on its own: once no
	// .txnindex.swap is left, recovery takes <base>.txnindex for the new
	// one (cleaner_recovery.go).
	if err := installTxnIndexSwap(l.dir, w.base, w.txnIdx.size() == 0); err != nil {
		return err
	}
	if err := l.cleanerHook(stepTxnIndexInstalled); err != nil {
		return err
	}
	for _, suf := range []string{indexSuffix, timeIndexSuffix, logSuffix} {
		if err := os.Rename(segmentName(w.dir, w.base, suf+swapSuffix), segmentName(w.dir, w.base, suf)); err != nil {
			return err
		}
	}
	return syncDir(l.dir)
}

// installTxnIndexSwap renames <base>.txnindex.swap over <base>.txnindex
// (an atomic replacement of a replaced segment's index), removes the
// result when empty, and syncs the directory.
func installTxnIndexSwap(dir string, base model.Offset, empty bool) error {
	final := segmentName(dir, base, txnIndexSuffix)
	if err := os.Rename(final+swapSuffix, final); err != nil {
		return err
	}
	if empty {
		// A crash may keep the empty file: it reads as no entries.
		if err := os.Remove(final); err != nil {
			return err
		}
	}
	return syncDir(dir)
}

// cleanerHook calls the test seam, if set.
func (l *Log) cleanerHook(step cleanStep) error {
	if l.cleaner.hook == nil {
		return nil
	}
	return l.cleaner.hook(step)
}
