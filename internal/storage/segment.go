package storage

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
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
// written by the Log's writer under Log.mu. A segment lives while refs > 0:
// the Log holds one reference until the segment is closed or its deletion
// delay passes, and long users (a cleaning pass, a sync round) hold one
// too. Its files are open only while in use: whoever reads or writes them
// pins the segment's file set (files.go) for the length of a call.
type segment struct {
	base    model.Offset // immutable
	dir     string       // immutable
	owner   *fileOwner   // immutable; shared by the Log's segments
	offIdx  offsetIndex
	timeIdx timeIndex
	txnIdx  txnIndex // aborted transactions, loaded on first use (txn_index.go)

	files   atomic.Pointer[fileSet] // nil or claimed: the next pin opens a new one
	filesMu sync.Mutex              // serializes opening and closing the set; guards renamed
	gone    atomic.Bool             // closed for good: never opened again (written under filesMu)
	renamed bool                    // the files are named *.deleted
	used    atomic.Int64            // janitor clock at the last unpin
	chunked atomic.Int64            // janitor clock when a Chunk was last handed out

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
	// rwSet is the file set under which both indexes were last mapped
	// writable (pinWritable maps them again under a newer one).
	rwSet *fileSet
	// wbOffered: the log file's bytes below it were handed to the
	// writeback pacer (writeback.go); wbSeen: set by the first append of
	// this process.
	wbOffered int64
	wbSeen    bool
	// finalized: the index files on disk are exact (trimmed to their
	// entries, the final time index entry written), as a roll or Close
	// leaves them; Close need not open them again.
	finalized bool
}

func newSegment(dir string, base model.Offset, owner *fileOwner, cfg Config, nowMs int64) *segment {
	s := &segment{base: base, dir: dir, owner: owner, next: base, maxTsOffset: base, createdMs: nowMs}
	s.offIdx.base, s.timeIdx.base = base, base
	s.offIdx.acct, s.timeIdx.acct = owner.janitor, owner.janitor
	s.maxTs.Store(-1)
	s.chunked.Store(never)
	s.refs.Store(1)
	if cfg.SegmentJitterMs > 0 {
		s.rollJitterMs = rand.Int64N(cfg.SegmentJitterMs)
	}
	return s
}

// createSegment creates an empty active segment at base: its .log and
// empty index files, all closed again; the first append maps the indexes
// (pinWritable). No live segment has this base (an invariant of the Log),
// so stale files are overwritten. A failure leaves no file behind.
func createSegment(dir string, base model.Offset, owner *fileOwner, cfg Config, nowMs int64) (*segment, error) {
	s := newSegment(dir, base, owner, cfg, nowMs)
	if err := s.createFiles(cfg); err != nil {
		for _, suf := range []string{logSuffix, indexSuffix, timeIndexSuffix} {
			os.Remove(segmentName(dir, base, suf))
		}
		return nil, fmt.Errorf("create segment %d: %w", base, err)
	}
	os.Remove(segmentName(dir, base, txnIndexSuffix)) // a stale one describes an old log
	s.offIdx.prepareWritable(segmentName(dir, base, indexSuffix), offsetEntrySize, int64(cfg.SegmentIndexBytes), 0)
	s.timeIdx.prepareWritable(segmentName(dir, base, timeIndexSuffix), timeEntrySize, int64(cfg.SegmentIndexBytes), 0)
	s.finalized = !s.preallocated
	return s, nil
}

func (s *segment) createFiles(cfg Config) error {
	f, err := openFile(segmentName(s.dir, s.base, logSuffix), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if cfg.Preallocate {
		// KEEP_SIZE reserves blocks without moving the end of file, so the
		// file size stays the data size and recovery needs no special case.
		if unix.Fallocate(int(f.Fd()), unix.FALLOC_FL_KEEP_SIZE, 0, cfg.SegmentBytes) == nil {
			s.preallocated = true
		}
	}
	if err := f.Close(); err != nil {
		return err
	}
	for _, suf := range []string{indexSuffix, timeIndexSuffix} {
		f, err := openFile(segmentName(s.dir, s.base, suf), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	return nil
}

// openIndexesWritable maps both indexes read-write under the pinned set
// fs, with room for capBytes each, keeping the given number of entries of
// each (0 rebuilds them empty).
func (s *segment) openIndexesWritable(fs *fileSet, capBytes, offEntries, timeEntries int64) error {
	if err := s.offIdx.openWritable(segmentName(s.dir, s.base, indexSuffix), offsetEntrySize, capBytes, offEntries); err != nil {
		return fmt.Errorf("segment %d: %w", s.base, err)
	}
	if err := s.timeIdx.openWritable(segmentName(s.dir, s.base, timeIndexSuffix), timeEntrySize, capBytes, timeEntries); err != nil {
		return fmt.Errorf("segment %d: %w", s.base, err)
	}
	s.rwSet, s.finalized = fs, false
	return nil
}

// makeActive lets a segment whose indexes were trimmed (or loaded
// read-only) take entries again, with room for capBytes each; the next
// pinWritable maps them. Called under Log.mu or before sharing.
func (s *segment) makeActive(capBytes int64) {
	if s.offIdx.maxEntries > 0 && s.timeIdx.maxEntries > 0 {
		return
	}
	s.offIdx.setCapacity(capBytes)
	s.timeIdx.setCapacity(capBytes)
	s.rwSet = nil
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
// trimmed to their entries, preallocated blocks released. fs is the set
// pinWritable (or openIndexesWritable) returned.
func (s *segment) onBecomeInactive(fs *fileSet) error {
	s.timeIdx.maybeAppend(s.maxTs.Load(), s.maxTsOffset, true)
	if err := s.offIdx.trim(); err != nil {
		return err
	}
	if err := s.timeIdx.trim(); err != nil {
		return err
	}
	s.rwSet = nil
	if s.preallocated {
		s.preallocated = false
		if err := fs.log.Truncate(s.size.Load()); err != nil {
			return fmt.Errorf("trim segment %d: %w", s.base, err)
		}
	}
	s.finalized = true
	return nil
}

// finish makes the segment inactive unless its files already are final
// (a segment that took no entry since it was opened or created), so an
// idle partition's Close or roll opens nothing. Called under Log.mu.
func (s *segment) finish() error {
	if s.finalized {
		s.offIdx.stopEntries()
		s.timeIdx.stopEntries()
		s.rwSet = nil
		return nil
	}
	fs, err := s.pinWritable()
	if err != nil {
		return err
	}
	defer s.unpin(fs)
	return s.onBecomeInactive(fs)
}

// syncIndexes makes the indexes durable; a nil fsync means a syncfs did
// (only descriptors are closed). It needs no pin: each index syncs under
// its mutex, which its file set's teardown takes too.
func (s *segment) syncIndexes(fsync func(*os.File) error) error {
	if s.indexFilesUnsynced.Load() && fsync != nil {
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
	if err := s.txnIdx.sync(s.txnIndexPath(), fsync); err != nil {
		return err
	}
	return s.timeIdx.sync(fsync)
}

// acquire takes a reference for a long user (a cleaning pass, a sync
// round); false means the segment is already closed for good.
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

// release drops a reference; the last one closes the segment for good.
func (s *segment) release() {
	if s.refs.Add(-1) == 0 {
		s.closeForGood()
		s.txnIdx.close()
	}
}

// renameDeleted renames the segment's files to *.deleted (Kafka's first
// step of an asynchronous delete); open descriptors keep working, and a
// set opened later opens the new names.
func (s *segment) renameDeleted() error {
	s.filesMu.Lock()
	defer s.filesMu.Unlock()
	for _, suf := range []string{logSuffix, indexSuffix, timeIndexSuffix, txnIndexSuffix} {
		p := segmentName(s.dir, s.base, suf)
		if err := os.Rename(p, p+deletedSuffix); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("delete segment %d: %w", s.base, err)
		}
		switch suf {
		case logSuffix:
			s.renamed = true
		case indexSuffix:
			s.offIdx.setPath(p + deletedSuffix)
		case timeIndexSuffix:
			s.timeIdx.setPath(p + deletedSuffix)
		}
	}
	return nil
}

// removeDeleted closes the segment for good and removes its *.deleted
// files (a reader that pinned it keeps reading the unlinked files).
func (s *segment) removeDeleted() {
	s.closeForGood()
	for _, suf := range []string{logSuffix, indexSuffix, timeIndexSuffix, txnIndexSuffix} {
		os.Remove(segmentName(s.dir, s.base, suf) + deletedSuffix)
	}
}

// modTime is the .log file's modification time in ms, 0 if unknown.
// Called for a segment in the list (under its live name).
func (s *segment) modTime() int64 {
	if fi, err := os.Stat(segmentName(s.dir, s.base, logSuffix)); err == nil {
		return fi.ModTime().UnixMilli()
	}
	return 0
}

// syncPath fsyncs the file at path through fsync; a missing file is
// nothing to sync.
func syncPath(path string, fsync func(*os.File) error) error {
	f, err := openFile(path, os.O_RDONLY, 0)
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
