package batch

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"
)

var codecs = []int{CodecNone, CodecGzip, CodecSnappy, CodecLZ4, CodecZstd}

// sampleRecords returns n records of about size value bytes each, with a
// mix of null and empty keys, headers with null values, and timestamps
// that go backwards.
func sampleRecords(n, size int) []Record {
	recs := make([]Record, n)
	for i := range recs {
		r := &recs[i]
		r.Timestamp = 1_700_000_000_000 + int64(i*7%5)*1000 - 2000
		switch i % 4 {
		case 0:
			r.Key = nil
		case 1:
			r.Key = []byte{}
		default:
			r.Key = []byte(fmt.Sprintf("key-%d", i))
		}
		r.Value = bytes.Repeat([]byte{byte('a' + i%26)}, size)
		if i%5 == 3 {
			r.Value = nil
		}
		if i%3 == 0 {
			r.Headers = []RecordHeader{{Key: "h1", Value: []byte("v")}, {Key: "", Value: nil}}
		}
	}
	return recs
}

// build makes a batch of recs (consecutive offsets) with info.
func build(t testing.TB, info BatchInfo, recs []Record) []byte {
	t.Helper()
	bld := NewBuilder(info)
	for i := range recs {
		if err := bld.Add(&recs[i]); err != nil {
			t.Fatal(err)
		}
	}
	b, err := bld.Build(nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// collect iterates b and returns deep copies of its records.
func collect(t testing.TB, b []byte) ([]Record, error) {
	t.Helper()
	var out []Record
	err := Records(b, func(r *Record) error {
		c := Record{Offset: r.Offset, Timestamp: r.Timestamp, Key: clone(r.Key), Value: clone(r.Value)}
		for _, h := range r.Headers {
			c.Headers = append(c.Headers, RecordHeader{Key: h.Key, Value: clone(h.Value)})
		}
		out = append(out, c)
		return nil
	})
	return out, err
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}

// recrc rewrites the CRC of a hand-edited batch.
func recrc(b []byte) []byte {
	binary.BigEndian.PutUint32(b[offCRC:], ComputeCRC(b))
	return b
}

// sameRecords reports the first difference between want and got,
// treating nil and empty as different (Kafka does).
func sameRecords(want, got []Record) error {
	if len(want) != len(got) {
		return fmt.Errorf("%d records, want %d", len(got), len(want))
	}
	for i := range want {
		w, g := want[i], got[i]
		if w.Offset != g.Offset || w.Timestamp != g.Timestamp {
			return fmt.Errorf("record %d: offset/ts %d/%d, want %d/%d", i, g.Offset, g.Timestamp, w.Offset, w.Timestamp)
		}
		if !sameBytes(w.Key, g.Key) || !sameBytes(w.Value, g.Value) {
			return fmt.Errorf("record %d: key/value %q/%q, want %q/%q", i, g.Key, g.Value, w.Key, w.Value)
		}
		if len(w.Headers) != len(g.Headers) {
			return fmt.Errorf("record %d: %d headers, want %d", i, len(g.Headers), len(w.Headers))
		}
		for j := range w.Headers {
			if w.Headers[j].Key != g.Headers[j].Key || !sameBytes(w.Headers[j].Value, g.Headers[j].Value) {
				return fmt.Errorf("record %d header %d: %+v, want %+v", i, j, g.Headers[j], w.Headers[j])
			}
		}
	}
	return nil
}

func sameBytes(a, b []byte) bool { return (a == nil) == (b == nil) && bytes.Equal(a, b) }
