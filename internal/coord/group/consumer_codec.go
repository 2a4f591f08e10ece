package group

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// The KIP-848 records of __consumer_offsets (consumer_records.go) are
// Kafka "coordinator" messages that kmsg v1.15 does not generate: a key
// in the classic non-flexible encoding (int16 version, int16-prefixed
// strings) and a value in the flexible encoding (int16 version, compact
// strings and arrays as uvarint length+1, a tagged-field section ending
// every struct). codec is the little of that encoding those records use.

// errShortRecord: a record ended before its fields did.
var errShortRecord = errors.New("record too short")

// enc appends to a buffer; it never fails.
type enc struct{ b []byte }

func (e *enc) int8(v int8)   { e.b = append(e.b, byte(v)) }
func (e *enc) int16(v int16) { e.b = binary.BigEndian.AppendUint16(e.b, uint16(v)) }
func (e *enc) int32(v int32) { e.b = binary.BigEndian.AppendUint32(e.b, uint32(v)) }
func (e *enc) int64(v int64) { e.b = binary.BigEndian.AppendUint64(e.b, uint64(v)) }
func (e *enc) uvarint(v int) { e.b = binary.AppendUvarint(e.b, uint64(v)) }
func (e *enc) uuid(v [16]byte) {
	e.b = append(e.b, v[:]...)
}

// str is a non-flexible string (keys).
func (e *enc) str(s string) {
	e.int16(int16(len(s)))
	e.b = append(e.b, s...)
}

// cstr is a compact string.
func (e *enc) cstr(s string) {
	e.uvarint(len(s) + 1)
	e.b = append(e.b, s...)
}

// cnstr is a compact nullable string.
func (e *enc) cnstr(s *string) {
	if s == nil {
		e.uvarint(0)
		return
	}
	e.cstr(*s)
}

// alen is a compact array length.
func (e *enc) alen(n int) { e.uvarint(n + 1) }

func (e *enc) int32s(vs []int32) {
	e.alen(len(vs))
	for _, v := range vs {
		e.int32(v)
	}
}

func (e *enc) strs(vs []string) {
	e.alen(len(vs))
	for _, v := range vs {
		e.cstr(v)
	}
}

// noTags ends a struct without tagged fields.
func (e *enc) noTags() { e.uvarint(0) }

// dec reads a buffer; the first error sticks and zero values follow.
type dec struct {
	b   []byte
	err error
}

func (d *dec) need(n int) bool {
	if d.err != nil {
		return false
	}
	if n < 0 || len(d.b) < n {
		d.err = errShortRecord
		return false
	}
	return true
}

func (d *dec) int8() int8 {
	if !d.need(1) {
		return 0
	}
	v := int8(d.b[0])
	d.b = d.b[1:]
	return v
}

func (d *dec) int16() int16 {
	if !d.need(2) {
		return 0
	}
	v := int16(binary.BigEndian.Uint16(d.b))
	d.b = d.b[2:]
	return v
}

func (d *dec) int32() int32 {
	if !d.need(4) {
		return 0
	}
	v := int32(binary.BigEndian.Uint32(d.b))
	d.b = d.b[4:]
	return v
}

func (d *dec) int64() int64 {
	if !d.need(8) {
		return 0
	}
	v := int64(binary.BigEndian.Uint64(d.b))
	d.b = d.b[8:]
	return v
}

func (d *dec) uvarint() int {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 || v > 1<<31 {
		d.err = fmt.Errorf("bad uvarint: %w", errShortRecord)
		return 0
	}
	d.b = d.b[n:]
	return int(v)
}

func (d *dec) uuid() [16]byte {
	var v [16]byte
	if d.need(16) {
		copy(v[:], d.b)
		d.b = d.b[16:]
	}
	return v
}

func (d *dec) bytes(n int) []byte {
	if !d.need(n) {
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *dec) str() string {
	n := int(d.int16())
	return string(d.bytes(n))
}

func (d *dec) cstr() string {
	n := d.uvarint()
	if n == 0 {
		if d.err == nil {
			d.err = errors.New("null where a string is required")
		}
		return ""
	}
	return string(d.bytes(n - 1))
}

func (d *dec) cnstr() *string {
	n := d.uvarint()
	if n == 0 {
		return nil
	}
	s := string(d.bytes(n - 1))
	return &s
}

// alen reads a compact array length; -1 is null.
func (d *dec) alen() int {
	n := d.uvarint() - 1
	if n > len(d.b) { // every element takes at least a byte
		d.err = errShortRecord
		return 0
	}
	return n
}

func (d *dec) int32s() []int32 {
	n := d.alen()
	if n < 0 {
		return nil
	}
	vs := make([]int32, 0, n)
	for range n {
		vs = append(vs, d.int32())
	}
	return vs
}

func (d *dec) strs() []string {
	n := d.alen()
	if n < 0 {
		return nil
	}
	vs := make([]string, 0, n)
	for range n {
		vs = append(vs, d.cstr())
	}
	return vs
}

// tags reads a tagged-field section, handing each field's bytes to f
// (nil: skip them all), as readers of a newer writer's record must.
func (d *dec) tags(f func(tag int, b []byte)) {
	n := d.uvarint()
	for range n {
		tag, size := d.uvarint(), d.uvarint()
		b := d.bytes(size)
		if d.err != nil {
			return
		}
		if f != nil {
			f(tag, b)
		}
	}
}
