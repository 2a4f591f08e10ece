package storage

import (
	"io"
	"os"
	"sync"

	"github.com/sluice-io/sluice/internal/batch"
	"github.com/sluice-io/sluice/internal/model"
	"github.com/sluice-io/sluice/internal/sysio"
)

// walkBufSize is the read-ahead of a header walk. Walks start at an index
// entry, so they usually cover about index.interval.bytes: one pread.
const walkBufSize = 8 << 10

var walkBufs = sync.Pool{New: func() any { return new([walkBufSize]byte) }}

// batchInfo is what a walk learns about one batch from its header.
type batchInfo struct {
	pos   int64
	size  int64
	base  model.Offset
	last  model.Offset
	maxTs int64
	epoch model.LeaderEpoch
}

// headerReader reads batch headers of one segment file in [.., end)
// through a pooled buffer. Not safe for concurrent use; call done when
// finished.
type headerReader struct {
	f      *os.File     // the segment's log, of a pinned file set
	base   model.Offset // the segment's base offset, for errors
	end    int64
	buf    *[walkBufSize]byte
	bufPos int64
	bufLen int
}

func newHeaderReader(f *os.File, base model.Offset, end int64) headerReader {
	return headerReader{f: f, base: base, end: end, buf: walkBufs.Get().(*[walkBufSize]byte)}
}

func (r *headerReader) done() { walkBufs.Put(r.buf); r.buf = nil }

// at returns the header of the batch at pos. io.EOF means pos is at or past
// the end; a *CorruptionError means pos does not start a plausible batch.
func (r *headerReader) at(pos int64) (batchInfo, error) {
	if pos >= r.end {
		return batchInfo{}, io.EOF
	}
	if pos+batch.HeaderSize > r.end {
		return batchInfo{}, &CorruptionError{Segment: r.base, Position: pos, Reason: "truncated header"}
	}
	if pos < r.bufPos || pos+batch.HeaderSize > r.bufPos+int64(r.bufLen) {
		n := int(min(int64(walkBufSize), r.end-pos))
		got, err := sysio.ReadAt(r.f, r.buf[:n], pos) // a fetch's locate: cached, raw
		if got < batch.HeaderSize {
			if err == nil || err == io.EOF {
				err = &CorruptionError{Segment: r.base, Position: pos, Reason: "short read"}
			}
			return batchInfo{}, err
		}
		r.bufPos, r.bufLen = pos, got
	}
	h := batch.Header(r.buf[pos-r.bufPos:])
	size := int64(h.Size())
	if h.Magic() != 2 || h.BatchLength() < batch.HeaderSize-batch.LogOverhead || pos+size > r.end {
		return batchInfo{}, &CorruptionError{Segment: r.base, Position: pos, Reason: "bad batch header"}
	}
	return batchInfo{
		pos: pos, size: size,
		base:  model.Offset(h.BaseOffset()),
		last:  model.Offset(h.LastOffset()),
		maxTs: h.MaxTimestamp(),
		epoch: model.LeaderEpoch(h.LeaderEpoch()),
	}, nil
}

// find walks from pos to the first batch whose last offset is >= off.
// found is false when the walk reaches end first.
func (r *headerReader) find(pos int64, off model.Offset) (batchInfo, bool, error) {
	for {
		b, err := r.at(pos)
		if err == io.EOF {
			return batchInfo{}, false, nil
		}
		if err != nil {
			return batchInfo{}, false, err
		}
		if b.last >= off {
			return b, true, nil
		}
		pos += b.size
	}
}

// seek returns the position a walk for off starts at: that of the offset
// index's entry at or below off, if the batch there is the one the entry
// names (an entry is a batch's last offset and its start, indexBatch),
// else the segment's start. The open-time sanity check looks at an
// index's last entries only (as Kafka's), so a damaged index can hold a
// wrong entry that would make a walk skip batches without an error; a
// wrong entry costs a longer walk instead. The header read here stays in
// r's buffer for the walk that follows: a good entry costs no extra read.
func (r *headerReader) seek(x *offsetIndex, off model.Offset) int64 {
	entry, pos := x.lookup(off)
	return r.check(entry, pos)
}

// check returns pos if the batch there ends at offset last, else 0.
func (r *headerReader) check(last model.Offset, pos int64) int64 {
	if pos == 0 {
		return 0
	}
	if b, err := r.at(pos); err != nil || b.last != last {
		return 0
	}
	return pos
}

// locate finds the batch holding off (or the first one after it) in s,
// starting from the offset index, within the first end bytes. fs is s's
// pinned file set.
func (s *segment) locate(fs *fileSet, off model.Offset, end int64) (batchInfo, bool, error) {
	r := newHeaderReader(fs.log, s.base, end)
	defer r.done()
	return r.find(r.seek(&s.offIdx, off), off)
}

// boundaryBefore returns the largest batch boundary in (start, limit], or
// start when the batch at start ends after limit. start is a batch start.
func (s *segment) boundaryBefore(fs *fileSet, start, limit, end int64) (int64, error) {
	r := newHeaderReader(fs.log, s.base, end)
	defer r.done()
	pos := max(r.check(s.offIdx.lookupPosition(limit)), start)
	for {
		b, err := r.at(pos)
		if err == io.EOF {
			return pos, nil
		}
		if err != nil {
			return 0, err
		}
		if pos+b.size > limit {
			return pos, nil
		}
		pos += b.size
	}
}

// loadTail (with s's file set fs pinned) walks the batches after the last offset index entry to learn
// the segment's next offset (Kafka's readNextOffset). The largest timestamp
// comes from the last time index entry, which is exact once the segment was
// closed or rolled (the final entry); after a truncation, rescan is set and
// the walk starts at that entry's batch instead, as Kafka's
// loadLargestTimestamp does. Called under Log.mu (or before sharing).
func (s *segment) loadTail(fs *fileSet, rescan bool) error {
	size := s.size.Load()
	ts, tsOff := s.timeIdx.lastEntry()
	s.maxTs.Store(ts)
	s.maxTsOffset = tsOff
	s.next = s.base
	r := newHeaderReader(fs.log, s.base, size)
	defer r.done()
	pos := r.check(s.offIdx.lastEntry())
	if rescan {
		pos = min(pos, r.seek(&s.offIdx, tsOff))
	}
	for pos < size {
		b, err := r.at(pos)
		if err != nil {
			return err
		}
		if b.maxTs > s.maxTs.Load() {
			s.maxTs.Store(b.maxTs)
			s.maxTsOffset = b.last
		}
		s.next = b.last + 1
		pos += b.size
	}
	return s.loadRollingTs(fs)
}

// loadRollingTs reads the first batch's MaxTimestamp (segment.ms rolls).
func (s *segment) loadRollingTs(fs *fileSet) error {
	s.hasRollingTs = false
	if s.size.Load() == 0 {
		return nil
	}
	r := newHeaderReader(fs.log, s.base, s.size.Load())
	defer r.done()
	b, err := r.at(0)
	if err != nil {
		return err
	}
	s.rollingTs, s.hasRollingTs = b.maxTs, true
	return nil
}
