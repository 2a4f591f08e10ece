package storage

import "github.com/sluice-io/sluice/internal/model"

// OffsetForTimestamp answers ListOffsets for a timestamp (Kafka's
// fetchOffsetByTimestamp): the first batch at or after LogStartOffset whose
// MaxTimestamp is >= ts, found through the time index and then by walking
// batch headers. It returns that batch's base offset (raised to
// LogStartOffset) and MaxTimestamp. Kafka answers with the first RECORD
// whose timestamp is >= ts; a caller that needs it reads the batch with
// Read(off, 0, true) and walks its records.
func (l *Log) OffsetForTimestamp(ts int64) (off model.Offset, batchTs int64, found bool) {
	lso := model.Offset(l.lso.Load())
	for _, s := range l.segments() {
		if s.maxTs.Load() < ts {
			continue
		}
		fs, err := s.pin()
		if err != nil {
			continue // deleted meanwhile, or unreadable: as a batch that does not match
		}
		b, ok := s.findTimestamp(fs, ts, lso)
		s.unpin(fs)
		if ok {
			return max(b.base, lso), b.maxTs, true
		}
	}
	return -1, -1, false
}

// findTimestamp walks from the time index's hint to the first batch whose
// MaxTimestamp is >= ts and whose last offset is >= lso. A hint whose
// entry does not hold (the batch ending at its offset carries its
// timestamp) is not used: as in seek, a damaged index costs a longer
// walk, never a wrong answer. fs is s's pinned file set.
func (s *segment) findTimestamp(fs *fileSet, ts int64, lso model.Offset) (batchInfo, bool) {
	r := newHeaderReader(fs.log, s.base, s.size.Load())
	defer r.done()
	entryTs, hint := s.timeIdx.lookup(ts)
	if entryTs >= 0 {
		if b, found, err := r.find(r.seek(&s.offIdx, hint), hint); err != nil || !found || b.last != hint || b.maxTs != entryTs {
			hint = s.base
		}
	}
	pos := r.seek(&s.offIdx, max(hint, lso))
	for {
		b, err := r.at(pos)
		if err != nil {
			return batchInfo{}, false
		}
		if b.maxTs >= ts && b.last >= lso {
			return b, true
		}
		pos += b.size
	}
}

// MaxTimestamp answers ListOffsets -3 (KIP-734): the batch with the largest
// MaxTimestamp, the earliest one on a tie. It returns that batch's base
// offset (raised to LogStartOffset) and the timestamp, or (-1, -1) when no
// batch carries a timestamp. Kafka names the first record carrying that
// timestamp; a caller can refine as for OffsetForTimestamp.
func (l *Log) MaxTimestamp() (off model.Offset, ts int64) {
	l.mu.Lock()
	var best *segment
	ts, off = -1, -1
	for _, s := range l.segments() {
		if t := s.maxTs.Load(); t > ts {
			best, ts, off = s, t, s.maxTsOffset
		}
	}
	if best == nil {
		l.mu.Unlock()
		return -1, -1
	}
	fs, err := best.pin()
	if err != nil {
		l.mu.Unlock()
		return -1, -1
	}
	lso := model.Offset(l.lso.Load())
	l.mu.Unlock()
	defer best.unpin(fs)
	b, found, err := best.locate(fs, off, best.size.Load())
	if err == nil && found {
		off = b.base
	}
	return max(off, lso), ts
}
