package storage

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/sluice-io/sluice/internal/batch"
	"github.com/sluice-io/sluice/internal/model"
)

// Open opens the log in dir, which must exist, and recovers it:
//
//   - a compaction swap that a crash interrupted after its commit point
//     (a <base>.log.swap file) is completed (cleaner_recovery.go);
//   - leftovers of interrupted work (*.deleted, *.cleaned, *.swap, *.tmp)
//     and indexes without a segment are removed;
//   - after a clean shutdown (log-checkpoint says so and the last segment
//     still has the size recorded), every segment is trusted;
//   - otherwise the segments before the one holding the recovery point are
//     trusted (they were fsynced), and that segment and every later one are
//     scanned batch by batch with CRC checks: their indexes are rebuilt,
//     and the first bad batch and everything after it are truncated;
//   - a trusted segment whose index is missing or fails its sanity check is
//     scanned the same way.
func Open(dir string, cfg Config) (*Log, error) {
	if fi, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("open log: %w", err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("open log %s: not a directory", dir)
	}
	id, err := readPartitionMetadata(dir)
	if err != nil {
		return nil, fmt.Errorf("open log %s: %w", dir, err)
	}
	l := newLog(dir, id, cfg)
	if err := l.recover(); err != nil {
		if p := l.segs.Load(); p != nil {
			for _, s := range *p {
				s.release()
			}
		}
		return nil, fmt.Errorf("open log %s: %w", dir, err)
	}
	return l, nil
}

// recover loads the segments and the checkpoints. Runs before the Log is
// shared, so it touches mu-guarded fields freely.
func (l *Log) recover() error {
	bases, err := cleanDir(l.dir)
	if err != nil {
		return err
	}
	ck, err := readCheckpoint(l.dir)
	if err != nil {
		ck = checkpoint{} // unreadable: scan everything, start offset from the segments
	}
	if ck.clean {
		l.ckOnDisk.ck, l.ckOnDisk.known = ck, true // written durably by the last Close
	}
	if l.epochs.load(l.dir) != nil {
		l.epochs.entries = nil // lost epochs only weaken follower truncation to the high watermark
	}
	segs, err := l.loadSegments(bases, ck)
	if err != nil {
		return err
	}
	l.publish(segs)
	last := segs[len(segs)-1]
	l.next = last.next
	lso := max(ck.logStartOffset, segs[0].base)
	if lso > l.next {
		// The tail below a checkpointed start offset was lost: restart there.
		for _, s := range segs {
			s.renameDeleted()
			s.removeDeleted()
			s.release()
		}
		s, err := createSegment(l.dir, lso, l.files, l.cfg, l.nowMs())
		if err != nil {
			return err
		}
		segs, l.next = []*segment{s}, lso
		l.publish(segs)
		l.dirDirty = true
	}
	l.leo.Store(int64(l.next))
	l.lso.Store(int64(lso))
	for _, s := range segs {
		l.bytes.Add(s.size.Load())
	}
	l.flush.reset(min(ck.recoveryPoint, l.next))
	if ck.clean && l.ckTrustsClean(ck, bases) {
		l.flush.reset(l.next)
	}
	l.ckRecoveryBase = segs[floorSegment(segs, l.flush.durable)].base
	// A mark is good for one recovery: this one may have cut bytes it
	// covers, which the next appends then rewrite. The first append of
	// this run arms a new one.
	if err := l.removeMarkLocked(); err != nil {
		return err
	}
	a := l.epochs.truncateFromEnd(l.next)
	if b := l.epochs.truncateFromStart(lso); a || b {
		return l.epochs.persist()
	}
	return nil
}

// ckTrustsClean reports whether the clean-shutdown marker still describes
// the files: same last segment, same size.
func (l *Log) ckTrustsClean(ck checkpoint, bases []model.Offset) bool {
	if !ck.clean || len(bases) == 0 || bases[len(bases)-1] != ck.activeBase {
		return false
	}
	fi, err := os.Stat(segmentName(l.dir, ck.activeBase, logSuffix))
	return err == nil && fi.Size() == ck.activeSize
}

// loadSegments opens every segment, trusting or recovering each.
func (l *Log) loadSegments(bases []model.Offset, ck checkpoint) ([]*segment, error) {
	if len(bases) == 0 {
		s, err := createSegment(l.dir, ck.logStartOffset, l.files, l.cfg, l.nowMs())
		if err != nil {
			return nil, err
		}
		l.dirDirty = true
		return []*segment{s}, nil
	}
	firstUnflushed := len(bases)
	var mark *writtenMark
	if !l.ckTrustsClean(ck, bases) {
		firstUnflushed = max(0, sort0(bases, ck.recoveryPoint))
		if m, ok := readMark(l.dir); ok && m.base == bases[len(bases)-1] {
			// Written this boot: segments before the marked one had rolled
			// before the mark was written (written_mark.go).
			firstUnflushed, mark = len(bases)-1, &m
		}
	}
	// Segments below firstDurable were fsynced, indexes included, before
	// the recovery point passed them; the mark vouches for the others only
	// within this boot.
	firstDurable := len(bases)
	if !l.ckTrustsClean(ck, bases) {
		firstDurable = max(0, sort0(bases, ck.recoveryPoint))
	}
	segs := make([]*segment, 0, len(bases))
	for i, base := range bases {
		limit := model.Offset(math.MaxInt64)
		if i+1 < len(bases) {
			limit = bases[i+1]
		}
		isLast := i == len(bases)-1
		var m *writtenMark
		if isLast {
			m = mark
		}
		s, truncated, err := l.loadSegment(base, limit, isLast, i < firstUnflushed, i < firstDurable, m)
		if err != nil {
			for _, o := range segs {
				o.release()
			}
			return nil, err
		}
		s.closeUnpinned() // Open leaves the files closed: one segment open at a time
		segs = append(segs, s)
		if truncated && !isLast {
			// A torn batch in the middle: everything after it is suspect.
			for _, b := range bases[i+1:] {
				for _, suf := range []string{logSuffix, indexSuffix, timeIndexSuffix, txnIndexSuffix} {
					os.Remove(segmentName(l.dir, b, suf))
				}
			}
			l.dirDirty = true
			break
		}
	}
	segs[len(segs)-1].makeActive(int64(l.cfg.SegmentIndexBytes)) // mapped by the first append
	return segs, nil
}

// sort0 is floorSegment over bare base offsets.
func sort0(bases []model.Offset, off model.Offset) int {
	i, found := slices.BinarySearch(bases, off)
	if found {
		return i
	}
	return max(i-1, 0)
}

// loadSegment opens one segment. A trusted segment keeps its indexes when
// they pass the sanity check; a marked one (the last, with a written mark
// of this boot) is scanned after the mark; any other is recovered by a
// scan. truncated reports that the scan cut a bad tail. A trusted segment
// that is not durable (the mark vouched for it) gets its index files
// fsynced in the next sync round: the recovery point must never pass
// indexes that a power loss could take back (issue 13, defect 12).
func (l *Log) loadSegment(base, limit model.Offset, isLast, trusted, durable bool, mark *writtenMark) (*segment, bool, error) {
	fi, err := os.Stat(segmentName(l.dir, base, logSuffix))
	if err != nil {
		return nil, false, fmt.Errorf("open segment %d: %w", base, err)
	}
	s := newSegment(l.dir, base, l.files, l.cfg, l.nowMs())
	s.size.Store(fi.Size())
	if trusted && l.trustSegment(s, limit, isLast) == nil {
		if !durable {
			s.indexFilesUnsynced.Store(true)
			l.needIndexSync = append(l.needIndexSync, s)
		}
		return s, false, nil
	}
	fs, err := s.pin()
	if err != nil {
		s.release()
		return nil, false, err
	}
	truncated, err := l.scanSegment(s, fs, isLast, mark)
	s.unpin(fs)
	if err != nil {
		s.release()
		return nil, false, err
	}
	l.needIndexSync = append(l.needIndexSync, s)
	return s, truncated > 0, nil
}

// scanSegment recovers s (its set fs pinned) from its mark, or by a scan
// of all its batches, and makes it inactive unless it is the last.
func (l *Log) scanSegment(s *segment, fs *fileSet, isLast bool, mark *writtenMark) (truncated int64, err error) {
	marked := false
	if mark != nil {
		truncated, marked, err = l.loadMarkedSegment(s, fs, *mark)
	}
	if !marked && err == nil {
		truncated, err = l.recoverSegment(s, fs)
	}
	if err != nil {
		return 0, err
	}
	if err := s.truncateTxnIndex(s.next); err != nil { // entries of a cut tail
		return 0, err
	}
	if !isLast && truncated == 0 {
		if err := s.onBecomeInactive(fs); err != nil {
			return 0, err
		}
	}
	return truncated, nil
}

// trustSegment sets up a segment from its index files without scanning
// its batches; an error means the indexes cannot be trusted. Indexes of
// older segments are checked with a few preads and mapped only when first
// used, so opening many segments maps nothing.
func (l *Log) trustSegment(s *segment, limit model.Offset, isLast bool) error {
	offPath, timePath := segmentName(l.dir, s.base, indexSuffix), segmentName(l.dir, s.base, timeIndexSuffix)
	offSize, _, offPrev, offLast, err := readIndexEnds(offPath, offsetEntrySize)
	if err != nil {
		return err
	}
	timeSize, timeFirst, _, timeLast, err := readIndexEnds(timePath, timeEntrySize)
	if err != nil {
		return err
	}
	if err := checkOffsetIndex(s.base, offPrev, offLast, s.size.Load(), limit); err != nil {
		return err
	}
	if err := checkTimeIndex(s.base, timeFirst, timeLast, limit); err != nil {
		return err
	}
	s.offIdx.openReadOnly(offPath, offsetEntrySize, offSize)
	s.timeIdx.openReadOnly(timePath, timeEntrySize, timeSize)
	if isLast {
		// Trusted only after a clean shutdown, which left the index files
		// exact: the first append maps them writable.
		s.finalized = true
		fs, err := s.pin()
		if err != nil {
			return err
		}
		defer s.unpin(fs)
		return s.loadTail(fs, false)
	}
	s.maxTs.Store(-1)
	if timeLast != nil {
		ts, off := decodeTimeEntry(s.base, timeLast)
		s.maxTs.Store(ts)
		s.maxTsOffset = off
	}
	s.next = limit
	return nil
}

// readIndexEnds reads an index file's size and its first, second-to-last
// and last entries (nil when absent). A missing file or a size that is not
// a whole number of entries is errCorruptIndex.
func readIndexEnds(path string, entrySize int64) (size int64, first, prev, last []byte, err error) {
	f, err := openFile(path, os.O_RDONLY, 0)
	if err != nil {
		return 0, nil, nil, nil, errCorruptIndex
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.Size()%entrySize != 0 {
		return 0, nil, nil, nil, errCorruptIndex
	}
	size = fi.Size()
	n := size / entrySize
	read := func(i int64) []byte {
		if i < 0 || i >= n || err != nil {
			return nil
		}
		b := make([]byte, entrySize)
		if _, rerr := f.ReadAt(b, i*entrySize); rerr != nil {
			err = errCorruptIndex
		}
		return b
	}
	first, prev, last = read(0), read(n-2), read(n-1)
	return size, first, prev, last, err
}

// errStopScan ends a recovery scan at a batch whose offsets do not follow.
var errStopScan = errors.New("stop scan")

// recoverSegment rebuilds s's indexes by scanning every batch with its CRC
// and truncates the first bad batch and everything after it. It returns
// the number of bytes truncated. fs is s's pinned set.
func (l *Log) recoverSegment(s *segment, fs *fileSet) (int64, error) {
	s.offIdx.close()
	s.timeIdx.close()
	if err := s.openIndexesWritable(fs, int64(l.cfg.SegmentIndexBytes), 0, 0); err != nil {
		return 0, err
	}
	s.next, s.bytesSinceIndex = s.base, 0
	s.maxTs.Store(-1)
	s.maxTsOffset, s.hasRollingTs = s.base, false
	return l.scanSegmentFrom(s, fs, 0)
}

// scanSegmentFrom CRC-checks the batches of s from byte from (a batch
// boundary; s's state and indexes describe the bytes before it), indexes
// them, and truncates the first bad batch and everything after it. It
// returns the number of bytes truncated.
func (l *Log) scanSegmentFrom(s *segment, fs *fileSet, from int64) (int64, error) {
	size := s.size.Load()
	if size <= from {
		return 0, nil
	}
	start := from &^ int64(os.Getpagesize()-1) // mmap offsets are page-aligned
	mapped, err := mmapFile(fs.log, start, int(size-start), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return 0, fmt.Errorf("map segment %d: %w", s.base, err)
	}
	defer unix.Munmap(mapped)
	unix.Madvise(mapped, unix.MADV_SEQUENTIAL)
	pos := from
	interval := l.cfg.IndexIntervalBytes
	good, err := batch.ScanStored(mapped[from-start:], func(h batch.Header) error {
		base, last := model.Offset(h.BaseOffset()), model.Offset(h.LastOffset())
		if base < s.next || last < base || last-s.base > math.MaxUint32 {
			return errStopScan
		}
		s.indexBatch(last, h.MaxTimestamp(), pos, int64(h.Size()), interval)
		pos += int64(h.Size())
		return nil
	})
	l.scanBytes.Add(int64(good))
	if err != nil && !errors.Is(err, errStopScan) {
		return 0, err
	}
	end := from + int64(good)
	if end == size {
		return 0, nil
	}
	if err := fs.log.Truncate(end); err != nil {
		return 0, fmt.Errorf("truncate segment %d: %w", s.base, err)
	}
	s.size.Store(end)
	return size - end, nil
}

// cleanDir removes leftovers and orphan indexes and returns the base
// offsets of the segments, sorted.
func cleanDir(dir string) ([]model.Offset, error) {
	if err := completeSwaps(dir); err != nil { // compaction: before .swap leftovers go
		return nil, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	logs := map[string]bool{}
	var bases []model.Offset
	for _, e := range entries {
		name := e.Name()
		for _, suf := range []string{deletedSuffix, cleanedSuffix, swapSuffix, tmpSuffix} {
			if strings.HasSuffix(name, suf) {
				if err := os.Remove(filepath.Join(dir, name)); err != nil {
					return nil, fmt.Errorf("remove leftover %s: %w", name, err)
				}
				name = ""
				break
			}
		}
		if stem, ok := strings.CutSuffix(name, logSuffix); ok {
			if base, err := strconv.ParseInt(stem, 10, 64); err == nil && base >= 0 && len(stem) == 20 {
				logs[stem] = true
				bases = append(bases, model.Offset(base))
			}
		}
	}
	for _, e := range entries {
		for _, suf := range []string{indexSuffix, timeIndexSuffix, txnIndexSuffix} {
			if stem, ok := strings.CutSuffix(e.Name(), suf); ok && !logs[stem] {
				os.Remove(filepath.Join(dir, e.Name()))
			}
		}
	}
	slices.Sort(bases)
	return bases, nil
}

// readCheckpoint reads log-checkpoint; a missing file reads as a zero
// checkpoint (scan everything).
func readCheckpoint(dir string) (checkpoint, error) {
	b, err := readFile(filepath.Join(dir, logCheckpointName))
	if os.IsNotExist(err) {
		return checkpoint{}, nil
	}
	if err != nil {
		return checkpoint{}, err
	}
	return parseCheckpoint(b)
}
