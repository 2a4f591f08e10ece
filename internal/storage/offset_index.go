package storage

import (
	"encoding/binary"

	"github.com/sluice-io/sluice/internal/model"
)

// offsetEntrySize is the size of one .index entry: relative offset uint32,
// file position uint32, both big-endian (Kafka's OffsetIndex).
const offsetEntrySize = 8

// offsetIndex maps offsets to file positions in one segment, sparsely: an
// entry (the last offset of a batch, the position where that batch starts)
// is added once more than index.interval.bytes were appended since the
// previous one. Entries increase in both offset and position.
//
// Safe for concurrent use by one writer and many readers (see mmapIndex).
type offsetIndex struct {
	mmapIndex
	base model.Offset
}

func (x *offsetIndex) entry(b []byte, i int) (model.Offset, int64) {
	e := b[i*offsetEntrySize:]
	return x.base + model.Offset(binary.BigEndian.Uint32(e)), int64(binary.BigEndian.Uint32(e[4:]))
}

// lookup returns the entry with the largest offset <= off, or (base, 0)
// when there is none. The batch holding off starts at or after the position.
func (x *offsetIndex) lookup(off model.Offset) (model.Offset, int64) {
	b, n := x.view()
	rel := int64(off - x.base)
	if rel < 0 || n == 0 {
		return x.base, 0
	}
	lo, hi := 0, n // first entry whose offset is > off
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if int64(binary.BigEndian.Uint32(b[mid*offsetEntrySize:])) <= rel {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo == 0 {
		return x.base, 0
	}
	return x.entry(b, lo-1)
}

// lookupPosition returns the entry with the largest position <= pos, or
// (base, 0) when there is none.
func (x *offsetIndex) lookupPosition(pos int64) (model.Offset, int64) {
	b, n := x.view()
	lo, hi := 0, n
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if int64(binary.BigEndian.Uint32(b[mid*offsetEntrySize+4:])) <= pos {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo == 0 {
		return x.base, 0
	}
	return x.entry(b, lo-1)
}

// lastEntry returns the last entry, or (base, 0) when empty.
func (x *offsetIndex) lastEntry() (model.Offset, int64) {
	b, n := x.view()
	if n == 0 {
		return x.base, 0
	}
	return x.entry(b, n-1)
}

// full reports whether the writable index has no room left (or is not
// writable). Called by the writer only.
func (x *offsetIndex) full() bool { return x.n.Load() >= x.maxEntries }

// append adds an entry; the caller checked full and monotonicity.
func (x *offsetIndex) append(off model.Offset, pos int64) {
	e := x.slot()
	binary.BigEndian.PutUint32(e, uint32(off-x.base))
	binary.BigEndian.PutUint32(e[4:], uint32(pos))
	x.publish()
}

// truncateTo removes the entries whose offset is >= off.
func (x *offsetIndex) truncateTo(off model.Offset) {
	b, n := x.view()
	keep := 0
	for keep < n {
		if o, _ := x.entry(b, keep); o >= off {
			break
		}
		keep++
	}
	x.truncateEntries(int64(keep))
}

// checkOffsetIndex is Kafka's OffsetIndex.sanityCheck plus bounds on the
// last entry, given the raw last two entries (prev is nil when there are
// fewer than two, last is nil when the index is empty): the last entry must
// point inside a log of logSize bytes and below limit (the next segment's
// base), and entries must increase.
func checkOffsetIndex(base model.Offset, prev, last []byte, logSize int64, limit model.Offset) error {
	if last == nil {
		return nil
	}
	lastOff := base + model.Offset(binary.BigEndian.Uint32(last))
	lastPos := int64(binary.BigEndian.Uint32(last[4:]))
	if lastPos >= logSize || lastOff >= limit {
		return errCorruptIndex
	}
	if prev != nil && (binary.BigEndian.Uint32(prev) >= binary.BigEndian.Uint32(last) ||
		binary.BigEndian.Uint32(prev[4:]) >= binary.BigEndian.Uint32(last[4:])) {
		return errCorruptIndex
	}
	return nil
}
