package storage

import (
	"math"

	"github.com/sluice-io/sluice/internal/model"
)

// cleanRange is what one log offers the cleaner at a moment (Kafka's
// LogToClean): the segments before uncleanIdx are cleanable, those from
// dirtyIdx on hold dirty offsets [firstDirty, firstUncleanable).
type cleanRange struct {
	segs             []*segment // the segment list it was computed on
	firstDirty       model.Offset
	firstUncleanable model.Offset
	dirtyIdx         int // first segment holding offsets >= firstDirty
	uncleanIdx       int // first segment that may not be cleaned
	cleanBytes       int64
	dirtyBytes       int64
	needNow          bool // max.compaction.lag.ms has passed for dirty data
}

// ratio is Kafka's cleanableRatio: dirty bytes over clean + dirty bytes.
func (r cleanRange) ratio() float64 {
	if total := r.cleanBytes + r.dirtyBytes; total > 0 {
		return float64(r.dirtyBytes) / float64(total)
	}
	return 0
}

// cleanableLocked computes the cleanable range (Kafka's
// LogCleanerManager.cleanableOffsets). The first uncleanable offset is the
// lowest of: the active segment's base (never cleaned), the end of the
// segments that lie wholly below upTo (the last stable offset: nothing at
// or above it is cleaned, so a truncation cannot undo a compaction), and
// the base of the first dirty segment holding a record younger than
// min.compaction.lag.ms. Called under mu.
func (l *Log) cleanableLocked(nowMs int64, upTo model.Offset) cleanRange {
	l.loadCleanerLocked()
	segs := l.segments()
	lso := model.Offset(l.lso.Load())
	r := cleanRange{segs: segs, firstDirty: max(l.cleaner.offset, lso)}
	if r.firstDirty > l.next {
		r.firstDirty = lso // a checkpoint past the log end is stale
	}
	r.uncleanIdx = len(segs) - 1
	for i := 0; i < len(segs)-1; i++ {
		if segs[i+1].base > upTo {
			r.uncleanIdx = i
			break
		}
	}
	r.dirtyIdx = floorSegment(segs, r.firstDirty)
	if lag := l.cfg.MinCompactionLagMs; lag > 0 {
		for i := r.dirtyIdx; i < r.uncleanIdx; i++ {
			if segs[i].largestTimestamp() > nowMs-lag {
				r.uncleanIdx = i
				break
			}
		}
	}
	r.firstUncleanable = segs[r.uncleanIdx].base
	if r.firstDirty >= r.firstUncleanable {
		r.firstDirty, r.dirtyIdx = r.firstUncleanable, r.uncleanIdx
	}
	for i, s := range segs[:r.uncleanIdx] {
		if i < r.dirtyIdx || s.base < r.firstDirty {
			r.cleanBytes += s.size.Load()
		}
		if i >= r.dirtyIdx {
			r.dirtyBytes += s.size.Load()
		}
	}
	r.needNow = r.dirtyBytes > 0 && l.compactionOverdue(segs[r.dirtyIdx], nowMs)
	return r
}

// compactionOverdue reports whether the first dirty segment's first batch
// is older than max.compaction.lag.ms (Kafka's maxCompactionDelay looks at
// the first batch of each dirty segment; the first one is the oldest).
func (l *Log) compactionOverdue(s *segment, nowMs int64) bool {
	lag := l.cfg.MaxCompactionLagMs
	if lag == math.MaxInt64 || s.size.Load() == 0 {
		return false
	}
	if !s.hasRollingTs {
		// Read once and kept: the cleaner asks every backoff.
		fs, opened, err := s.pinOnce()
		if err != nil {
			return false
		}
		err = s.loadRollingTs(fs)
		s.unpinOnce(fs, opened)
		if err != nil {
			return false
		}
	}
	return s.rollingTs >= 0 && s.rollingTs < nowMs-lag
}

// CleanableRatio is Kafka's cleanable ratio of a compacted log: the bytes
// of its dirty section (segments not yet cleaned, up to the first
// uncleanable offset) over the bytes of its clean and dirty sections. It is
// 0 for a log whose cleanup.policy lacks "compact". A cleaner loop cleans
// the log with the largest ratio first.
func (l *Log) CleanableRatio(nowMs int64) float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.cfg.compactEnabled() || l.closed {
		return 0
	}
	return l.cleanableLocked(nowMs, l.next).ratio()
}
