package storage

import (
	"hash/maphash"

	"github.com/sluice-io/sluice/internal/model"
)

// DefaultDedupeBufferBytes bounds the memory of one cleaning pass's offset
// map: Kafka's log.cleaner.dedupe.buffer.size default (128 MiB).
const DefaultDedupeBufferBytes = 128 << 20

// mapSlotSize is the memory of one offset map slot: a 128-bit key digest
// and an offset, 24 bytes as in Kafka's SkimpyOffsetMap (MD5 + offset).
const mapSlotSize = 24

// initialMapSlots is the starting size of an offset map; a map never has
// fewer than 16 slots, whatever its budget.
const initialMapSlots = 1 << 10

// offsetMap is the cleaner's key -> latest offset map over the dirty
// section (Kafka's SkimpyOffsetMap). Keys are not stored: a key is a
// 128-bit digest made of two independently seeded maphash values, so a
// false match (which would drop a live record) needs a 128-bit collision.
// It is an open-addressing table with linear probing that starts small,
// doubles at 3/4 load and stops growing at maxSlots; then put reports it
// full and the pass cleans only what was mapped.
//
// Not safe for concurrent use: one cleaning pass owns it.
type offsetMap struct {
	seeds    [2]maphash.Seed
	slots    []mapSlot // len is a power of two
	size     int       // keys held
	maxSlots int       // budget, a power of two
	// latest is Kafka's latestOffset: every offset up to it was mapped
	// (or holds no key); records after it are kept whatever their key.
	latest model.Offset
}

// mapSlot holds one key digest and its offset plus one (0 is empty).
type mapSlot struct {
	h0, h1 uint64
	off1   int64
}

// newOffsetMap returns an empty map using at most budget bytes.
func newOffsetMap(budget int64) *offsetMap {
	maxSlots := 16
	for int64(maxSlots)*2*mapSlotSize <= budget {
		maxSlots *= 2
	}
	return &offsetMap{
		seeds:    [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()},
		slots:    make([]mapSlot, min(initialMapSlots, maxSlots)),
		maxSlots: maxSlots,
		latest:   -1,
	}
}

func (m *offsetMap) digest(key []byte) (uint64, uint64) {
	return maphash.Bytes(m.seeds[0], key), maphash.Bytes(m.seeds[1], key)
}

// put records off as key's latest offset. It returns false, changing
// nothing, when key is new and the map is at its budget.
func (m *offsetMap) put(key []byte, off model.Offset) bool {
	h0, h1 := m.digest(key)
	i := m.find(h0, h1)
	if m.slots[i].off1 != 0 {
		m.slots[i].off1 = int64(off) + 1
		return true
	}
	if (m.size+1)*4 > len(m.slots)*3 {
		if len(m.slots) >= m.maxSlots {
			return false
		}
		m.grow()
		i = m.find(h0, h1)
	}
	m.slots[i] = mapSlot{h0: h0, h1: h1, off1: int64(off) + 1}
	m.size++
	return true
}

// get returns key's latest offset, or -1 when the map does not hold key.
func (m *offsetMap) get(key []byte) model.Offset {
	h0, h1 := m.digest(key)
	return model.Offset(m.slots[m.find(h0, h1)].off1 - 1)
}

// find returns the slot holding the digest, or the empty slot where it
// would go. The table is never full, so the probe ends.
func (m *offsetMap) find(h0, h1 uint64) int {
	mask := len(m.slots) - 1
	for i := int(h0) & mask; ; i = (i + 1) & mask {
		s := &m.slots[i]
		if s.off1 == 0 || (s.h0 == h0 && s.h1 == h1) {
			return i
		}
	}
}

// grow doubles the table.
func (m *offsetMap) grow() {
	old := m.slots
	m.slots = make([]mapSlot, 2*len(old))
	for _, s := range old {
		if s.off1 != 0 {
			m.slots[m.find(s.h0, s.h1)] = s
		}
	}
}

// updateLatest raises latest to off.
func (m *offsetMap) updateLatest(off model.Offset) { m.latest = max(m.latest, off) }
