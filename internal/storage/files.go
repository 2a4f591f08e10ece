package storage

import (
	"errors"
	"fmt"
	"math"
	"os"
	"sync/atomic"
)

// A segment's open resources, its .log descriptor and the descriptors and
// maps of its indexes, form one file set that is opened on first use and
// closed when the segment has been idle for a while (janitor.go), so a
// partition costs descriptors and maps only while it is used: 100,000
// idle partitions cost none.
//
// The set is reference counted and published through an atomic pointer.
// Everyone who touches the files pins the set for the length of a call:
// readers (lock-free: one CAS to pin, one add to unpin; no mutex unless
// the set must be opened), the appender under Log.mu, sync rounds. The
// janitor closes a set only by claiming it, a CAS of the pin count from 0
// to setClosed; a claimed set is never pinned again, and whoever finds it
// claimed opens a new one under the segment's filesMu. So a set is never
// closed under a caller that pinned it.
//
// The index maps and descriptors live in the mmapIndex values but belong
// to the set they were made under: they are made only while a set is
// pinned and torn down with it (teardownLocked). The appender knows its
// writable maps belong to the current set through segment.rwSet.
//
// A Chunk handed out by Read is used after its set is unpinned (the fetch
// path sends it later), so a set is closed only once file.delete.delay.ms
// has passed since the segment last handed out a Chunk: the promise a
// Chunk of a deleted segment already had (chunk.go).

// setClosed is the pin count of a claimed (closing or closed) set.
const setClosed = math.MinInt32 / 2

// never is the stamp of a segment that never handed out a Chunk.
const never = math.MinInt64 / 4

// errSegmentGone: the segment was closed for good (deleted, or its log
// closed); its files cannot be opened again. Readers reload the segment
// list.
var errSegmentGone = errors.New("segment closed")

// fileSet is the open state of one segment. Safe for concurrent use.
type fileSet struct {
	log  *os.File     // immutable; closed when the set is torn down
	pins atomic.Int32 // users now; setClosed once claimed
}

// tryPin pins fs unless it was claimed.
func (fs *fileSet) tryPin() bool {
	for {
		n := fs.pins.Load()
		if n < 0 {
			return false
		}
		if fs.pins.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// fileOwner is what a Log's segments share about their files: the
// janitor that closes idle sets (nil: sets stay open while their segment
// lives) and how long a Chunk must stay readable.
type fileOwner struct {
	janitor *FileJanitor
	holdMs  atomic.Int64 // file.delete.delay.ms
}

func newFileOwner(j *FileJanitor, holdMs int64) *fileOwner {
	o := &fileOwner{janitor: j}
	o.holdMs.Store(holdMs)
	return o
}

// pin returns the segment's file set, pinned, opening it when it is
// closed. errSegmentGone means the segment is closed for good.
func (s *segment) pin() (*fileSet, error) {
	if fs := s.files.Load(); fs != nil && fs.tryPin() {
		return fs, nil
	}
	return s.pinSlow()
}

func (s *segment) pinSlow() (*fileSet, error) {
	s.filesMu.Lock()
	defer s.filesMu.Unlock()
	if fs := s.files.Load(); fs != nil && fs.tryPin() {
		return fs, nil
	}
	if s.gone.Load() {
		return nil, errSegmentGone
	}
	if j := s.owner.janitor; j != nil {
		if err := j.admit(); err != nil {
			return nil, fmt.Errorf("open segment %d: %w", s.base, err)
		}
	}
	name := segmentName(s.dir, s.base, logSuffix)
	if s.renamed {
		name += deletedSuffix
	}
	f, err := openFile(name, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("open segment %d: %w", s.base, err)
	}
	return s.installLocked(f), nil
}

// adopt makes f, a new segment file, the segment's set, pinned once.
func (s *segment) adopt(f *os.File) *fileSet {
	s.filesMu.Lock()
	defer s.filesMu.Unlock()
	return s.installLocked(f)
}

func (s *segment) installLocked(f *os.File) *fileSet {
	fs := &fileSet{log: f}
	fs.pins.Store(1)
	s.files.Store(fs)
	if j := s.owner.janitor; j != nil {
		j.addFDs(1)
		s.used.Store(j.track(s))
	}
	return fs
}

// unpin ends a use of fs. It notes the time for the janitor; the last
// unpin of a segment closed for good closes the set.
func (s *segment) unpin(fs *fileSet) {
	if j := s.owner.janitor; j != nil {
		stamp(&s.used, j.clock.Load())
	}
	if fs.pins.Add(-1) == 0 && s.gone.Load() {
		s.filesMu.Lock()
		if s.files.Load() == fs && fs.pins.CompareAndSwap(0, setClosed) {
			s.teardownLocked(fs)
		}
		s.filesMu.Unlock()
	}
}

// noteChunk records that a Chunk of the segment is being handed out: the
// set stays open file.delete.delay.ms from now. Call it before unpin.
func (s *segment) noteChunk() {
	if j := s.owner.janitor; j != nil {
		stamp(&s.chunked, j.now())
	}
}

// stamp stores now unless it is there already (no write to a shared
// cache line when nothing changed).
func stamp(a *atomic.Int64, now int64) {
	if a.Load() != now {
		a.Store(now)
	}
}

// pinWritable pins the active segment's set with both indexes mapped
// writable, mapping them again if the set was closed since. Called by the
// writer under Log.mu (or before the Log is shared) on a segment that
// takes entries (makeActive or a new segment).
func (s *segment) pinWritable() (*fileSet, error) {
	fs, err := s.pin()
	if err != nil {
		return nil, err
	}
	if s.rwSet != fs {
		err := s.offIdx.reopenWritable()
		if err == nil {
			err = s.timeIdx.reopenWritable()
		}
		if err != nil {
			s.unpin(fs)
			return nil, fmt.Errorf("segment %d: %w", s.base, err)
		}
		s.rwSet, s.finalized = fs, false
	}
	return fs, nil
}

// closeIf closes the set if nobody pins it and ok, asked once the set is
// claimed (no pin can start meanwhile), agrees. It skips a segment whose
// filesMu is busy: a set being opened is in use, and relief (files_limit.go)
// may run inside another segment's open. It reports whether it closed.
func (s *segment) closeIf(ok func(*segment) bool) bool {
	if !s.filesMu.TryLock() {
		return false
	}
	defer s.filesMu.Unlock()
	fs := s.files.Load()
	if fs == nil || !fs.pins.CompareAndSwap(0, setClosed) {
		return false
	}
	if ok != nil && !ok(s) {
		fs.pins.Store(0) // unclaim: pinners blocked on filesMu find it open
		return false
	}
	s.teardownLocked(fs)
	return true
}

// closeUnpinned closes the set now unless it is pinned (Create and Open
// leave a log's files closed; nobody else holds the log yet).
func (s *segment) closeUnpinned() {
	s.filesMu.Lock()
	defer s.filesMu.Unlock()
	if fs := s.files.Load(); fs != nil && fs.pins.CompareAndSwap(0, setClosed) {
		s.teardownLocked(fs)
	}
}

// closeForGood marks the segment gone and closes its set, at once when
// unpinned, else at the last unpin. The files are never opened again.
func (s *segment) closeForGood() {
	s.filesMu.Lock()
	s.gone.Store(true)
	if fs := s.files.Load(); fs != nil && fs.pins.CompareAndSwap(0, setClosed) {
		s.teardownLocked(fs)
	}
	s.filesMu.Unlock()
}

// teardownLocked closes a claimed set: index maps and descriptors, then
// the log descriptor. The indexes keep their entries, so the next set maps
// them as they were. The set is unpublished last, so a segment seen with
// no set has none open (nobody can pin a claimed set meanwhile). Called
// under filesMu.
func (s *segment) teardownLocked(fs *fileSet) {
	s.offIdx.close()
	s.timeIdx.close()
	fs.log.Close()
	if j := s.owner.janitor; j != nil {
		j.addFDs(-1)
		j.untrack(s)
	}
	s.files.Store(nil)
}

// isOpen reports whether the segment has an open file set (tests, stats).
func (s *segment) isOpen() bool { return s.files.Load() != nil }

// pinOnce is pin for a one-off use (a scan at start-up): opened reports
// that the set had to be opened, and unpinOnce then closes it again
// unless a Chunk holds it.
func (s *segment) pinOnce() (fs *fileSet, opened bool, err error) {
	if fs := s.files.Load(); fs != nil && fs.tryPin() {
		return fs, false, nil
	}
	fs, err = s.pinSlow()
	return fs, err == nil, err
}

// unpinOnce ends a pinOnce use. Without a janitor nothing stamps Chunks,
// so the set stays open as every set does then.
func (s *segment) unpinOnce(fs *fileSet, opened bool) {
	s.unpin(fs)
	if j := s.owner.janitor; opened && j != nil {
		s.closeIf(func(s *segment) bool { return j.eligible(s, j.now(), true) })
	}
}
