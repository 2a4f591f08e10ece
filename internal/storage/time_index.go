package storage

import (
	"encoding/binary"

	"github.com/sluice-io/sluice/internal/model"
)

// timeEntrySize is the size of one .timeindex entry: timestamp int64,
// relative offset uint32, both big-endian (Kafka's TimeIndex).
const timeEntrySize = 12

// timeIndex maps timestamps to offsets in one segment. An entry (T, O) says
// the largest batch MaxTimestamp seen up to offset O is T, first reached by
// the batch whose last offset is O. Entries are added beside offset index
// entries, only when T grew, plus one final entry when the segment stops
// being active, so the last entry carries the segment's largest timestamp.
//
// Safe for concurrent use by one writer and many readers (see mmapIndex).
type timeIndex struct {
	mmapIndex
	base model.Offset
}

func (x *timeIndex) entry(b []byte, i int) (int64, model.Offset) {
	e := b[i*timeEntrySize:]
	return int64(binary.BigEndian.Uint64(e)), x.base + model.Offset(binary.BigEndian.Uint32(e[8:]))
}

// lookup returns the entry with the largest timestamp <= ts, or (-1, base)
// when there is none: every batch before that entry's batch has a smaller
// MaxTimestamp, so a search for ts may start there.
func (x *timeIndex) lookup(ts int64) (int64, model.Offset) {
	b, n := x.view()
	lo, hi := 0, n
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if int64(binary.BigEndian.Uint64(b[mid*timeEntrySize:])) <= ts {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo == 0 {
		return -1, x.base
	}
	return x.entry(b, lo-1)
}

// lastEntry returns the last entry, or (-1, base) when empty.
func (x *timeIndex) lastEntry() (int64, model.Offset) {
	b, n := x.view()
	if n == 0 {
		return -1, x.base
	}
	return x.entry(b, n-1)
}

// full reports whether the index is full, keeping one slot for the final
// entry written when the segment becomes inactive (as Kafka does).
func (x *timeIndex) full() bool { return x.n.Load() >= x.maxEntries-1 }

// maybeAppend adds (ts, off) when ts is larger than the last entry's
// timestamp. final allows the reserved last slot.
func (x *timeIndex) maybeAppend(ts int64, off model.Offset, final bool) {
	if last, _ := x.lastEntry(); ts <= last {
		return
	}
	if x.n.Load() >= x.maxEntries || (!final && x.full()) {
		return
	}
	e := x.slot()
	binary.BigEndian.PutUint64(e, uint64(ts))
	binary.BigEndian.PutUint32(e[8:], uint32(off-x.base))
	x.publish()
}

// truncateTo removes the entries whose offset is >= off.
func (x *timeIndex) truncateTo(off model.Offset) {
	b, n := x.view()
	keep := 0
	for keep < n {
		if _, o := x.entry(b, keep); o >= off {
			break
		}
		keep++
	}
	x.truncateEntries(int64(keep))
}

// checkTimeIndex is Kafka's TimeIndex.sanityCheck, given the raw first and
// last entries (nil when empty): the last entry's timestamp and offset no
// smaller than the first's, and the last offset below limit.
func checkTimeIndex(base model.Offset, first, last []byte, limit model.Offset) error {
	if last == nil {
		return nil
	}
	firstTs, lastTs := int64(binary.BigEndian.Uint64(first)), int64(binary.BigEndian.Uint64(last))
	firstRel, lastRel := binary.BigEndian.Uint32(first[8:]), binary.BigEndian.Uint32(last[8:])
	if lastTs < firstTs || lastRel < firstRel || base+model.Offset(lastRel) >= limit {
		return errCorruptIndex
	}
	return nil
}

// decodeTimeEntry decodes a raw time index entry.
func decodeTimeEntry(base model.Offset, e []byte) (int64, model.Offset) {
	return int64(binary.BigEndian.Uint64(e)), base + model.Offset(binary.BigEndian.Uint32(e[8:]))
}
