package wire

import "encoding/binary"

// Primitive encoders of the Kafka protocol, appending to the Body's
// buffer. Flexible versions (KIP-482) use compact lengths: an unsigned
// varint of length+1, where 0 means null.

func (b *Body) i16(v int16) { b.buf = binary.BigEndian.AppendUint16(b.buf, uint16(v)) }
func (b *Body) i32(v int32) { b.buf = binary.BigEndian.AppendUint32(b.buf, uint32(v)) }
func (b *Body) i64(v int64) { b.buf = binary.BigEndian.AppendUint64(b.buf, uint64(v)) }

func (b *Body) uvarint(v uint64) { b.buf = binary.AppendUvarint(b.buf, v) }

func (b *Body) uuid(id [16]byte) { b.buf = append(b.buf, id[:]...) }

// arrayLen writes the length of a non-null array.
func (b *Body) arrayLen(n int, flexible bool) {
	if flexible {
		b.uvarint(uint64(n) + 1)
		return
	}
	b.i32(int32(n))
}

// nullableArrayLen writes the length of an array that may be null.
func (b *Body) nullableArrayLen(n int, null, flexible bool) {
	switch {
	case null && flexible:
		b.uvarint(0)
	case null:
		b.i32(-1)
	default:
		b.arrayLen(n, flexible)
	}
}

// bytesLen writes the length of a non-null BYTES or NULLABLE_BYTES field
// (records are never sent as null).
func (b *Body) bytesLen(n int64, flexible bool) {
	b.arrayLen(int(n), flexible)
}

func (b *Body) str(s string, flexible bool) {
	if flexible {
		b.uvarint(uint64(len(s)) + 1)
	} else {
		b.i16(int16(len(s)))
	}
	b.buf = append(b.buf, s...)
}

func (b *Body) nullableStr(s *string, flexible bool) {
	switch {
	case s != nil:
		b.str(*s, flexible)
	case flexible:
		b.uvarint(0)
	default:
		b.i16(-1)
	}
}

// uvarintLen is the size of v as an unsigned varint.
func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// compactStrLen is the size of a compact (nullable) string.
func compactStrLen(s *string) int {
	if s == nil {
		return 1
	}
	return uvarintLen(uint64(len(*s))+1) + len(*s)
}
