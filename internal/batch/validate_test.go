package batch

import (
	"encoding/binary"
	"errors"
	"testing"
)

func TestValidate(t *testing.T) {
	good := build(t, NewBatchInfo(CodecNone), sampleRecords(3, 10))
	gz := build(t, NewBatchInfo(CodecGzip), sampleRecords(3, 10))
	edit := func(f func(b []byte) []byte) []byte {
		return f(append([]byte{}, good...))
	}
	tests := []struct {
		name string
		b    []byte
		want error
	}{
		{"good", good, nil},
		{"good gzip", gz, nil},
		{"bad crc", edit(func(b []byte) []byte { b[len(b)-1] ^= 1; return b }), ErrCorrupt},
		{"crc field flipped", edit(func(b []byte) []byte { b[offCRC] ^= 0x80; return b }), ErrCorrupt},
		{"length too long", edit(func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[offBatchLength:], uint32(len(b)-LogOverhead+1))
			return b
		}), ErrCorrupt},
		{"length too short", edit(func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[offBatchLength:], uint32(len(b)-LogOverhead-1))
			return b
		}), ErrCorrupt},
		{"length below header", edit(func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[offBatchLength:], 10)
			return b[:22]
		}), ErrCorrupt},
		{"negative length", edit(func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[offBatchLength:], 0xffffffff)
			return b
		}), ErrCorrupt},
		{"trailing byte", append(append([]byte{}, good...), 0), ErrCorrupt},
		{"magic 1", edit(func(b []byte) []byte { b[offMagic] = 1; return recrc(b) }), ErrMagic},
		{"magic 0 short", edit(func(b []byte) []byte { b[offMagic] = 0; return b[:30] }), ErrMagic},
		{"record count 0", edit(func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[offRecordCount:], 0)
			return recrc(b)
		}), ErrInvalid},
		{"record count negative", edit(func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[offRecordCount:], 0xffffffff)
			return recrc(b)
		}), ErrInvalid},
		{"last offset delta mismatch", edit(func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[offLastOffsetDelta:], 5)
			return recrc(b)
		}), ErrInvalid},
		{"unknown codec", edit(func(b []byte) []byte { b[offAttributes+1] |= 5; return recrc(b) }), ErrInvalid},
		{"more records than bytes", edit(func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[offRecordCount:], 1000)
			binary.BigEndian.PutUint32(b[offLastOffsetDelta:], 999)
			return recrc(b)
		}), ErrInvalid},
		{"truncated header", good[:HeaderSize-1], ErrCorrupt},
		{"truncated body", good[:len(good)-1], ErrCorrupt},
		{"empty", nil, ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := Validate(tt.b)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("Validate = %v, want %v", err, tt.want)
			}
			if err == nil && h.Size() != len(tt.b) {
				t.Fatalf("Size = %d, want %d", h.Size(), len(tt.b))
			}
		})
	}
}

func TestHeaderFields(t *testing.T) {
	info := BatchInfo{
		BaseOffset: 100, PartitionLeaderEpoch: 7, Codec: CodecLZ4, Transactional: true,
		ProducerID: 42, ProducerEpoch: 3, BaseSequence: 9,
	}
	recs := sampleRecords(4, 5)
	h, err := Validate(build(t, info, recs))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want int64
	}{
		{"base offset", h.BaseOffset(), 100},
		{"leader epoch", int64(h.LeaderEpoch()), 7},
		{"codec", int64(h.Codec()), CodecLZ4},
		{"producer id", h.ProducerID(), 42},
		{"producer epoch", int64(h.ProducerEpoch()), 3},
		{"base sequence", int64(h.BaseSequence()), 9},
		{"record count", int64(h.RecordCount()), 4},
		{"last offset", h.LastOffset(), 103},
		{"next offset", h.NextOffset(), 104},
		{"first timestamp", h.FirstTimestamp(), recs[0].Timestamp},
		{"max timestamp", h.MaxTimestamp(), maxTimestamp(recs)},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
	if !h.IsTransactional() || h.IsControl() || h.LogAppendTime() {
		t.Errorf("attributes %#x", h.Attributes())
	}
}

func maxTimestamp(recs []Record) int64 {
	m := recs[0].Timestamp
	for _, r := range recs {
		m = max(m, r.Timestamp)
	}
	return m
}

func TestSetters(t *testing.T) {
	recs := sampleRecords(5, 8)
	for _, codec := range codecs {
		b := build(t, NewBatchInfo(codec), recs)
		SetBaseOffset(b, 1000)
		SetLeaderEpoch(b, 12)
		h, err := Validate(b)
		if err != nil {
			t.Fatalf("codec %d: after SetBaseOffset/SetLeaderEpoch: %v", codec, err)
		}
		if h.BaseOffset() != 1000 || h.LeaderEpoch() != 12 {
			t.Fatalf("codec %d: base %d epoch %d", codec, h.BaseOffset(), h.LeaderEpoch())
		}
		SetLogAppendTime(b, 5555)
		if _, err := Validate(b); err != nil {
			t.Fatalf("codec %d: after SetLogAppendTime: %v", codec, err)
		}
		got, err := collect(t, b)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range got {
			if r.Offset != 1000+int64(i) || r.Timestamp != 5555 {
				t.Fatalf("codec %d record %d: offset %d ts %d", codec, i, r.Offset, r.Timestamp)
			}
		}
	}
}

func TestScanStored(t *testing.T) {
	b1 := build(t, NewBatchInfo(CodecNone), sampleRecords(3, 10))
	b2 := build(t, NewBatchInfo(CodecZstd), sampleRecords(2, 100))
	b3 := build(t, NewBatchInfo(CodecSnappy), sampleRecords(4, 1))
	log := append(append(append([]byte{}, b1...), b2...), b3...)
	corrupt3 := append([]byte{}, log...)
	corrupt3[len(corrupt3)-1] ^= 0xff
	magic3 := append([]byte{}, log...)
	magic3[len(b1)+len(b2)+offMagic] = 1
	tests := []struct {
		name    string
		b       []byte
		good    int
		batches int
	}{
		{"empty", nil, 0, 0},
		{"three batches", log, len(log), 3},
		{"torn body", log[:len(log)-1], len(b1) + len(b2), 2},
		{"torn header", log[:len(b1)+len(b2)+HeaderSize-1], len(b1) + len(b2), 2},
		{"zero tail", append(append([]byte{}, log...), make([]byte, 100)...), len(log), 3},
		{"bad crc in last", corrupt3, len(b1) + len(b2), 2},
		{"bad magic in last", magic3, len(b1) + len(b2), 2},
		{"length past end", append(append([]byte{}, b1...), b2[:HeaderSize]...), len(b1), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := 0
			good, err := ScanStored(tt.b, func(h Header) error { n++; return nil })
			if err != nil || good != tt.good || n != tt.batches {
				t.Fatalf("ScanStored = %d, %v after %d batches; want %d after %d", good, err, n, tt.good, tt.batches)
			}
		})
	}
	t.Run("callback error stops", func(t *testing.T) {
		stop := errors.New("stop")
		n := 0
		good, err := ScanStored(log, func(h Header) error {
			if n++; n == 2 {
				return stop
			}
			return nil
		})
		if err != stop || good != len(b1) {
			t.Fatalf("ScanStored = %d, %v; want %d, stop", good, err, len(b1))
		}
	})
}
