package storage

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/sluice-io/sluice/internal/batch"
	"github.com/sluice-io/sluice/internal/model"
)

// File name suffixes of a segment and of files being removed or replaced.
const (
	logSuffix       = ".log"
	indexSuffix     = ".index"
	timeIndexSuffix = ".timeindex"
	deletedSuffix   = ".deleted"
	cleanedSuffix   = ".cleaned"
	swapSuffix      = ".swap"
	tmpSuffix       = ".tmp"
)

// segmentName is Kafka's file name stem: the base offset on 20 digits.
func segmentName(dir string, base model.Offset, suffix string) string {
	return filepath.Join(dir, fmt.Sprintf("%020d%s", base, suffix))
}

// segment is one file of batches (offsets from base up) with its offset and
// time indexes.
//
// Readers use the atomics and the indexes without locks; everything else is
// written by the Log's writer under Log.mu. A segment stays open while
// refs > 0: the Log holds one reference until the segment is closed or its
// deletion delay passes, and every reader pins it for the duration of a call.
type segment struct {
	base    model.Offset // immutable
	dir     string       // immutable
	log     *os.File     // immutable; closed when refs reaches zero
	offIdx  offsetIndex
	timeIdx timeIndex
	txnIdx  txnIndex // aborted transactions, loaded on first use (txn_index.go)

	size  atomic.Int64 // bytes of whole batches, visible to readers
	maxTs atomic.Int64 // largest batch MaxTimestamp, -1 when none
	refs  atomic.Int32
	// indexFilesUnsynced: recovery trusted index files that a previous run
	// of this boot wrote and maybe never fsynced (a segment the written
	// mark vouched for); the sync round that moves the recovery point past
	// the segment fsyncs them by path first.
	indexFilesUnsynced atomic.Bool

	// Guarded by Log.mu.
	next            model.Offset // offset after the last batch; base when empty
	maxTsOffset     model.Offset // last offset of the batch that set maxTs
	bytesSinceIndex int64
	rollingTs       int64 // MaxTimestamp of the first batch (segment.ms rolls)
	hasRollingTs    bool
	createdMs       int64
	rollJitterMs    int64
	preallocated    bool
}

func newSegment(dir string, base model.Offset, f *os.File, cfg Config, nowMs int64) *segment {
	s := &segment{base: base, dir: dir, log: f, next: base, maxTsOffset: base, createdMs: nowMs}
	s.offIdx.base, s.timeIdx.base = base, base
	s.maxTs.Store(-1)
	s.refs.Store(1)
	if cfg.SegmentJitterMs > 0 {
		s.rollJitterMs = rand.Int64N(cfg.SegmentJitterMs)
	}
	return s
}

// createSegment creates an empty active segment at base. No live segment
// has this base (an invariant of the Log), so stale files are overwritten.
func createSegment(dir string, base model.Offset, cfg Config, nowMs int64) (*segment, error) {
	f, err := os.OpenFile(segmentName(dir, base, logSuffix), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create segment %d: %w", base, err)
	}
	os.Remove(segmentName(dir, base, txnIndexSuffix)) // a stale one describes an old log
	s := newSegment(dir, base, f, cfg, nowMs)
	if cfg.Preallocate {
		// KEEP_SIZE reserves blocks without moving the end of file, so the
		// file size stays the data size and recovery needs no special case.
		if unix.Fallocate(int(f.Fd()), unix.FALLOC_FL_KEEP_SIZE, 0, cfg.SegmentBytes) == nil {
			s.preallocated = true
		}
	}
	if err := s.openIndexesWritable(cfg, 0, 0); err != nil {
		s.closeFiles()
		return nil, err
	}
	return s, nil
}

// openIndexesWritable maps both indexes read-write, keeping the given
// number of entries of each.
func (s *segment) openIndexesWritable(cfg Config, offEntries, timeEntries int64) error {
	if err := s.offIdx.openWritable(segmentName(s.dir, s.base, indexSuffix), offsetEntrySize, int64(cfg.SegmentIndexBytes), offEntries); err != nil {
		return fmt.Errorf("segment %d: %w", s.base, err)
	}
	if err := s.timeIdx.openWritable(segmentName(s.dir, s.base, timeIndexSuffix), timeEntrySize, int64(cfg.SegmentIndexBytes), timeEntries); err != nil {
		return fmt.Errorf("segment %d: %w", s.base, err)
	}
	return nil
}

// indexBatch records one appended batch at pos in the in-memory state and
// the indexes (Kafka's LogSegment.append: index by the batch's last offset
// once more than interval bytes went by). Called under Log.mu.
func (s *segment) indexBatch(last model.Offset, maxTs, pos, size int64, interval int32) {
	if pos == 0 {
		s.rollingTs, s.hasRollingTs = maxTs, true
	}
	if maxTs > s.maxTs.Load() {
		s.maxTs.Store(maxTs)
		s.maxTsOffset = last
	}
	if s.bytesSinceIndex > int64(interval) {
		if !s.offIdx.full() {
			s.offIdx.append(last, pos)
		}
		s.timeIdx.maybeAppend(s.maxTs.Load(), s.maxTsOffset, false)
		s.bytesSinceIndex = 0
	}
	s.bytesSinceIndex += size
	s.next = last + 1
}

// indexRun indexes the concatenated batches of data, written at pos.
func (s *segment) indexRun(data []byte, pos int64, interval int32) {
	for len(data) > 0 {
		h := batch.Header(data)
		n := h.Size()
		s.indexBatch(model.Offset(h.LastOffset()), h.MaxTimestamp(), pos, int64(n), interval)
		data, pos = data[n:], pos+int64(n)
	}
}

// timeWaitedForRoll is Kafka's rule: the age of the segment measured by
// batch timestamps when the first batch has one, else by the wall clock.
func (s *segment) timeWaitedForRoll(nowMs, batchTs int64) int64 {
	if s.hasRollingTs && s.rollingTs >= 0 {
		return batchTs - s.rollingTs
	}
	return nowMs - s.createdMs
}

// onBecomeInactive runs when the segment stops being the active one: a
// final time index entry with the segment's largest timestamp, indexes
// trimmed to their entries, preallocated blocks released.
func (s *segment) onBecomeInactive() error {
	s.timeIdx.maybeAppend(s.maxTs.Load(), s.maxTsOffset, true)
	if err := s.offIdx.trim(); err != nil {
		return err
	}
	if err := s.timeIdx.trim(); err != nil {
		return err
	}
	if s.preallocated {
		s.preallocated = false
		if err := s.log.Truncate(s.size.Load()); err != nil {
			return fmt.Errorf("trim segment %d: %w", s.base, err)
		}
	}
	return nil
}

// syncIndexes makes both indexes durable.
func (s *segment) syncIndexes(fsync func(*os.File) error) error {
	if s.indexFilesUnsynced.Load() {
		for _, suf := range []string{indexSuffix, timeIndexSuffix, txnIndexSuffix} {
			if err := syncPath(segmentName(s.dir, s.base, suf), fsync); err != nil {
				return err
			}
		}
		s.indexFilesUnsynced.Store(false)
	}
	if err := s.offIdx.sync(fsync); err != nil {
		return err
	}
	if err := s.txnIdx.sync(fsync); err != nil {
		return err
	}
	return s.timeIdx.sync(fsync)
}

// acquire pins the segment for a reader; false means it is already closed.
func (s *segment) acquire() bool {
	for {
		r := s.refs.Load()
		if r <= 0 {
			return false
		}
		if s.refs.CompareAndSwap(r, r+1) {
			return true
		}
	}
}

// release drops a reference; the last one closes the files.
func (s *segment) release() {
	if s.refs.Add(-1) == 0 {
		s.closeFiles()
	}
}

func (s *segment) closeFiles() {
	s.offIdx.close()
	s.timeIdx.close()
	s.txnIdx.close()
	s.log.Close()
}

// renameDeleted renames the segment's files to *.deleted (Kafka's first
// step of an asynchronous delete); open descriptors keep working.
func (s *segment) renameDeleted() error {
	for _, suf := range []string{logSuffix, indexSuffix, timeIndexSuffix, txnIndexSuffix} {
		p := segmentName(s.dir, s.base, suf)
		if err := os.Rename(p, p+deletedSuffix); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("delete segment %d: %w", s.base, err)
		}
	}
	return nil
}

// removeDeleted removes the *.deleted files of the segment.
func (s *segment) removeDeleted() {
	for _, suf := range []string{logSuffix, indexSuffix, timeIndexSuffix, txnIndexSuffix} {
		os.Remove(segmentName(s.dir, s.base, suf) + deletedSuffix)
	}
}

// syncPath fsyncs the file at path through fsync; a missing file is
// nothing to sync.
func syncPath(path string, fsync func(*os.File) error) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	defer f.Close()
	if err := fsync(f); err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	return nil
}
