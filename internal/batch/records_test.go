package batch

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

func TestRecordsRoundTrip(t *testing.T) {
	for _, codec := range codecs {
		for _, n := range []int{1, 7, 300} {
			t.Run(codecName(codec), func(t *testing.T) {
				info := NewBatchInfo(codec)
				info.BaseOffset = 50
				recs := sampleRecords(n, 33)
				for i := range recs {
					recs[i].Offset = 50 + int64(i)
				}
				b := build(t, info, recs)
				if err := ValidateRecords(b, 1<<20); err != nil {
					t.Fatal(err)
				}
				got, err := collect(t, b)
				if err != nil {
					t.Fatal(err)
				}
				if err := sameRecords(recs, got); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

func TestBuilderAddAt(t *testing.T) {
	info := NewBatchInfo(CodecGzip)
	info.BaseOffset = 10
	info.BaseTimestamp = 1000
	bld := NewBuilder(info)
	recs := []Record{
		{Offset: 10, Timestamp: 1005, Value: []byte("a")},
		{Offset: 13, Timestamp: 999, Value: []byte("b")},
		{Offset: 20, Timestamp: 1003, Value: []byte("c")},
	}
	for i := range recs {
		if err := bld.AddAt(&recs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := bld.AddAt(&Record{Offset: 20}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("AddAt of a repeated offset: %v", err)
	}
	b, err := bld.Build(nil)
	if err != nil {
		t.Fatal(err)
	}
	h := Header(b)
	if h.LastOffsetDelta() != 10 || h.RecordCount() != 3 || h.FirstTimestamp() != 1000 || h.MaxTimestamp() != 1005 {
		t.Fatalf("header: lastOffsetDelta %d count %d first %d max %d", h.LastOffsetDelta(), h.RecordCount(), h.FirstTimestamp(), h.MaxTimestamp())
	}
	got, err := collect(t, b)
	if err != nil {
		t.Fatal(err)
	}
	if err := sameRecords(recs, got); err != nil {
		t.Fatal(err)
	}
	// A batch with gaps is what compaction stores; produce must refuse it.
	if err := ValidateRecords(b, 1<<20); !errors.Is(err, ErrInvalid) {
		t.Fatalf("ValidateRecords with offset gaps: %v", err)
	}
}

func TestEmptyBatch(t *testing.T) {
	for _, codec := range codecs {
		info := NewBatchInfo(codec)
		info.BaseTimestamp = 77
		b, err := NewBuilder(info).Build(nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) != HeaderSize {
			t.Fatalf("%s: empty batch of %d bytes", codecName(codec), len(b))
		}
		if err := Records(b, func(*Record) error { return errors.New("called") }); err != nil {
			t.Fatalf("%s: %v", codecName(codec), err)
		}
		// An empty batch is valid on disk, not from a producer.
		if _, err := Validate(b); !errors.Is(err, ErrInvalid) {
			t.Fatalf("%s: Validate empty batch: %v", codecName(codec), err)
		}
		if n, _ := ScanStored(b, func(Header) error { return nil }); n != len(b) {
			t.Fatalf("%s: ScanStored empty batch: %d", codecName(codec), n)
		}
	}
}

// rawBatch builds an uncompressed batch around a hand-made payload.
func rawBatch(count int32, payload []byte) []byte {
	b, _ := NewBuilder(NewBatchInfo(CodecNone)).Build(nil)
	b = append(b, payload...)
	binary.BigEndian.PutUint32(b[offBatchLength:], uint32(len(b)-LogOverhead))
	binary.BigEndian.PutUint32(b[offRecordCount:], uint32(count))
	binary.BigEndian.PutUint32(b[offLastOffsetDelta:], uint32(count-1))
	return recrc(b)
}

func TestRecordsErrors(t *testing.T) {
	one := appendRecord(nil, 0, 0, &Record{Key: []byte("k"), Value: []byte("v")})
	two := appendRecord(append([]byte{}, one...), 1, 0, &Record{Value: []byte("w")})
	hdr := func(count int32, rest ...byte) []byte {
		// length, attrs, ts 0, offset 0, null key, null value, header count
		body := append([]byte{0, 0, 0, 1, 1}, appendVarint(nil, count)...)
		body = append(body, rest...)
		return append(appendVarint(nil, int32(len(body))), body...)
	}
	tests := []struct {
		name string
		b    []byte
		want error
	}{
		{"good", rawBatch(2, two), nil},
		{"count too high", rawBatch(3, two), ErrInvalid},
		{"count too low", rawBatch(1, two), ErrInvalid},
		{"negative count", rawBatch(-1, two), ErrInvalid},
		{"truncated record", rawBatch(2, two[:len(two)-1]), ErrCorrupt},
		{"record length past end", rawBatch(1, append([]byte{0x7e}, one[1:]...)), ErrCorrupt},
		{"negative record length", rawBatch(1, append([]byte{0x01}, one[1:]...)), ErrCorrupt},
		{"record length too long for fields", rawBatch(1, append(appendVarint(nil, int32(len(one))), append(one[1:], 0)...)), ErrCorrupt},
		{"overlong varint", rawBatch(1, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0x01}), ErrCorrupt},
		{"key length -2", rawBatch(1, []byte{10, 0, 0, 0, 3, 1, 0, 0, 0, 0, 0}), ErrCorrupt},
		{"huge header count", rawBatch(1, hdr(1<<30)), ErrCorrupt},
		{"negative header count", rawBatch(1, hdr(-1)), ErrCorrupt},
		{"null header key", rawBatch(1, hdr(1, 1, 1)), ErrCorrupt},
		{"header with null value", rawBatch(1, hdr(1, 2, 'k', 1)), nil},
		{"magic 1", func() []byte { b := rawBatch(2, two); b[offMagic] = 1; return b }(), ErrMagic},
		{"short", two[:10], ErrCorrupt},
		{"gzip garbage", func() []byte {
			b := rawBatch(1, []byte("not gzip at all"))
			b[offAttributes+1] |= CodecGzip
			return recrc(b)
		}(), ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Records(tt.b, func(*Record) error { return nil })
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("Records = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestRecordsCallbackError(t *testing.T) {
	b := build(t, NewBatchInfo(CodecSnappy), sampleRecords(5, 3))
	stop := errors.New("stop")
	n := 0
	err := Records(b, func(*Record) error {
		if n++; n == 2 {
			return stop
		}
		return nil
	})
	if err != stop || n != 2 {
		t.Fatalf("Records = %v after %d calls", err, n)
	}
}

func TestValidateRecords(t *testing.T) {
	big := build(t, NewBatchInfo(CodecZstd), []Record{{Value: make([]byte, 2<<20)}})
	good := build(t, NewBatchInfo(CodecLZ4), sampleRecords(10, 10))
	badCRC := append([]byte{}, good...)
	badCRC[len(badCRC)-1] ^= 1
	tests := []struct {
		name string
		b    []byte
		max  int
		want error
	}{
		{"good", good, 1 << 20, nil},
		{"bad crc", badCRC, 1 << 20, ErrCorrupt},
		{"over the limit", big, 1 << 20, ErrTooLarge},
		{"at the limit", big, 3 << 20, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := ValidateRecords(tt.b, tt.max); !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("ValidateRecords = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestReaderReuse(t *testing.T) {
	var r Reader
	r.MaxUncompressed = 1 << 20
	for i, codec := range codecs {
		recs := sampleRecords(i+2, 100*i)
		b := build(t, NewBatchInfo(codec), recs)
		var got []Record
		err := r.Records(b, func(rec *Record) error {
			got = append(got, Record{Offset: rec.Offset, Timestamp: rec.Timestamp,
				Key: clone(rec.Key), Value: clone(rec.Value), Headers: append([]RecordHeader{}, rec.Headers...)})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for j := range recs {
			recs[j].Offset = int64(j)
		}
		if err := sameRecords(recs, got); err != nil {
			t.Fatalf("%s: %v", codecName(codec), err)
		}
	}
}

func TestControlMarker(t *testing.T) {
	for _, commit := range []bool{false, true} {
		info := NewBatchInfo(CodecNone)
		info.Control, info.Transactional, info.ProducerID, info.ProducerEpoch = true, true, 9, 2
		b := build(t, info, []Record{*EndTxnMarker(commit, 5, 1234)})
		h, err := Validate(b)
		if err != nil || !h.IsControl() || !h.IsTransactional() {
			t.Fatalf("control batch: %v, attrs %#x", err, h.Attributes())
		}
		err = Records(b, func(r *Record) error {
			typ, err := ControlType(r.Key)
			if err != nil {
				return err
			}
			if want := map[bool]int16{false: ControlAbort, true: ControlCommit}[commit]; typ != want {
				t.Errorf("type %d, want %d", typ, want)
			}
			if !bytes.Equal(r.Value, []byte{0, 0, 0, 0, 0, 5}) || r.Timestamp != 1234 {
				t.Errorf("value %v ts %d", r.Value, r.Timestamp)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ControlType([]byte{0, 1}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("short key: %v", err)
	}
}

func TestRecompress(t *testing.T) {
	recs := sampleRecords(20, 50)
	for _, from := range codecs {
		info := NewBatchInfo(from)
		info.BaseOffset, info.ProducerID, info.BaseSequence = 7, 3, 11
		src := build(t, info, recs)
		want, _ := collect(t, src)
		for _, to := range codecs {
			out, err := Recompress(src, to, nil, 1<<20)
			if err != nil {
				t.Fatalf("%s -> %s: %v", codecName(from), codecName(to), err)
			}
			h, err := Validate(out)
			if err != nil {
				t.Fatalf("%s -> %s: %v", codecName(from), codecName(to), err)
			}
			if h.Codec() != to || h.BaseOffset() != 7 || h.ProducerID() != 3 || h.BaseSequence() != 11 {
				t.Fatalf("%s -> %s: header codec %d base %d pid %d seq %d", codecName(from), codecName(to),
					h.Codec(), h.BaseOffset(), h.ProducerID(), h.BaseSequence())
			}
			got, err := collect(t, out)
			if err != nil {
				t.Fatal(err)
			}
			if err := sameRecords(want, got); err != nil {
				t.Fatalf("%s -> %s: %v", codecName(from), codecName(to), err)
			}
		}
	}
}
