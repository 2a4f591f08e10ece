package batch

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
)

// payloadBatch makes a batch whose header counts count records and whose
// records are payload (as given, well-formed or not), compressed with
// codec.
func payloadBatch(t testing.TB, codec int, count int32, payload []byte) []byte {
	t.Helper()
	b, err := NewBuilder(NewBatchInfo(CodecNone)).Build(nil)
	if err != nil {
		t.Fatal(err)
	}
	if b, err = Compress(codec, payload, b); err != nil {
		t.Fatal(err)
	}
	return setPayloadHeader(b, codec, count)
}

// setPayloadHeader fixes the length, codec, count and CRC of b.
func setPayloadHeader(b []byte, codec int, count int32) []byte {
	binary.BigEndian.PutUint32(b[offBatchLength:], uint32(len(b)-LogOverhead))
	binary.BigEndian.PutUint16(b[offAttributes:], uint16(codec))
	binary.BigEndian.PutUint32(b[offRecordCount:], uint32(count))
	binary.BigEndian.PutUint32(b[offLastOffsetDelta:], uint32(count-1))
	return recrc(b)
}

// rec encodes a well-formed record.
func rec(offDelta int32, tsDelta int64, key, value []byte, headers ...RecordHeader) []byte {
	return appendRecord(nil, offDelta, tsDelta, &Record{Key: key, Value: value, Headers: headers})
}

// rawRec frames fields as one record with the length they add up to.
func rawRec(fields ...[]byte) []byte {
	body := bytes.Join(fields, nil)
	return append(appendVarint(nil, int32(len(body))), body...)
}

func vi(v int32) []byte { return appendVarint(nil, v) }
func vl(v int64) []byte { return appendVarlong(nil, v) }

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// TestCheckRecordsStructure: each malformed shape of records is refused
// with Kafka's code, for every codec, and nothing short of the whole batch
// is accepted.
func TestCheckRecordsStructure(t *testing.T) {
	k, v := []byte("k"), []byte("value")
	r0, r1, r2 := rec(0, 0, k, v), rec(1, 1, nil, v), rec(2, 2, k, nil, RecordHeader{Key: "h", Value: []byte("x")})
	three := cat(r0, r1, r2)
	attrs := []byte{0}
	tests := []struct {
		name    string
		count   int32
		payload []byte
		want    error
	}{
		{"good", 3, three, nil},
		{"header counts 5, holds 3", 5, three, ErrInvalid},
		{"header counts 2, holds 3", 2, three, ErrInvalid},
		{"last record truncated", 3, three[:len(three)-1], ErrInvalid},
		{"trailing byte after the records", 3, cat(three, []byte{0}), ErrInvalid},
		{"record length past the end", 1, cat(vi(int32(len(r0))), r0[1:]), ErrInvalid},
		{"negative record length", 1, cat(vi(-3), r0[1:]), ErrInvalid},
		{"zero record length", 1, cat(vi(0), r0[1:]), ErrInvalid},
		{"record length longer than its fields", 1, rawRec(r0[1:], []byte{0}), ErrInvalid},
		{"record length shorter than its fields", 2, cat(vi(int32(len(r0)-3)), r0[1:], r1), ErrInvalid},
		{"overlong length varint", 1, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, ErrInvalid},
		{"varint past 32 bits", 1, rawRec(attrs, vl(0), []byte{0xff, 0xff, 0xff, 0xff, 0x7f}, vi(-1), vi(-1), vi(0)), ErrInvalid},
		{"overlong timestamp varlong", 1, rawRec(attrs, bytes.Repeat([]byte{0xff}, 11), vi(0), vi(-1), vi(-1), vi(0)), ErrInvalid},
		{"key length -2", 1, rawRec(attrs, vl(0), vi(0), vi(-2), vi(-1), vi(0)), ErrInvalid},
		{"key past the record", 1, rawRec(attrs, vl(0), vi(0), vi(100), []byte("abc"), vi(-1), vi(0)), ErrInvalid},
		{"value past the record", 1, rawRec(attrs, vl(0), vi(0), vi(-1), vi(50), []byte("abc")), ErrInvalid},
		{"negative header count", 1, rawRec(attrs, vl(0), vi(0), vi(-1), vi(-1), vi(-1)), ErrInvalid},
		{"header count past the record", 1, rawRec(attrs, vl(0), vi(0), vi(-1), vi(-1), vi(1<<30), vi(1), []byte("h"), vi(-1)), ErrInvalid},
		{"null header key", 1, rawRec(attrs, vl(0), vi(0), vi(-1), vi(-1), vi(1), vi(-1), vi(-1)), ErrInvalid},
		{"header value past the record", 1, rawRec(attrs, vl(0), vi(0), vi(-1), vi(-1), vi(1), vi(1), []byte("h"), vi(9), []byte("x")), ErrInvalid},
		{"header with null value", 1, rawRec(attrs, vl(0), vi(0), vi(-1), vi(-1), vi(1), vi(1), []byte("h"), vi(-1)), nil},
		{"offset deltas 0 0 1", 3, cat(r0, rec(0, 0, k, v), rec(1, 0, k, v)), ErrInvalid},
		{"offset deltas with a gap", 3, cat(r0, r1, rec(3, 0, k, v)), ErrInvalid},
		{"first offset delta 1", 1, rec(1, 0, k, v), ErrInvalid},
	}
	for _, codec := range codecs {
		for _, tt := range tests {
			t.Run(codecName(codec)+"/"+tt.name, func(t *testing.T) {
				b := payloadBatch(t, codec, tt.count, tt.payload)
				if _, err := Validate(b); err != nil {
					t.Fatalf("Validate: %v (the shape must get past the header checks)", err)
				}
				c, err := CheckRecords(b, 1<<20, &ProduceRules{})
				c.Release()
				if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
					t.Fatalf("CheckRecords = %v, want %v", err, tt.want)
				}
				var re *RecordsError
				if errors.As(err, &re) {
					t.Fatalf("a structural error came as refused records: %v", err)
				}
			})
		}
	}
}

// TestCheckRecordsCompressed: payloads that do not decompress, and
// decompression past the bound.
func TestCheckRecordsCompressed(t *testing.T) {
	good := rec(0, 0, []byte("k"), bytes.Repeat([]byte("v"), 4096))
	for _, codec := range codecs[1:] {
		t.Run(codecName(codec), func(t *testing.T) {
			z := payloadBatch(t, codec, 1, good)
			tests := []struct {
				name string
				b    []byte
				max  int
				want error
			}{
				{"good", z, 1 << 20, nil},
				{"garbage payload", setPayloadHeader(cat(z[:HeaderSize], []byte("this is not compressed at all, honest")), codec, 1), 1 << 20, ErrDecompress},
				{"truncated payload", setPayloadHeader(append([]byte{}, z[:len(z)-(len(z)-HeaderSize)/2]...), codec, 1), 1 << 20, ErrDecompress},
				{"past the bound", z, 1000, ErrTooLarge},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					c, err := CheckRecords(tt.b, tt.max, &ProduceRules{})
					c.Release()
					if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
						t.Fatalf("CheckRecords = %v, want %v", err, tt.want)
					}
				})
			}
		})
	}
}

// TestCheckRecordsRules: the topic's rules, record by record, with the
// refused records listed (ProduceResponse record_errors).
func TestCheckRecordsRules(t *testing.T) {
	const now = 1_700_000_000_000
	const hour = 3_600_000
	mk := func(codec int, recs ...Record) []byte {
		info := NewBatchInfo(codec)
		info.BaseTimestamp = now
		return build(t, info, recs)
	}
	at := func(ts int64, key string) Record {
		r := Record{Timestamp: ts, Value: []byte("v")}
		if key != "" {
			r.Key = []byte(key)
		}
		return r
	}
	window := ProduceRules{NowMs: now, TimestampBeforeMaxMs: hour, TimestampAfterMaxMs: hour}
	compacted := window
	compacted.RequireKeys = true
	lat := ProduceRules{NowMs: now, LogAppendTime: true, TimestampBeforeMaxMs: hour, TimestampAfterMaxMs: hour}
	producerLAT := func(codec int, recs ...Record) []byte {
		b := mk(codec, recs...)
		SetLogAppendTime(b, now)
		return b
	}
	withHeader := func(b []byte, f func(b []byte)) []byte { f(b); return recrc(b) }
	tests := []struct {
		name    string
		b       func(codec int) []byte
		rules   ProduceRules
		want    error
		refused []int32
	}{
		{"within the window", func(c int) []byte { return mk(c, at(now, "a"), at(now-hour, "b"), at(now+hour, "c")) }, window, nil, nil},
		{"a record stamped 1970", func(c int) []byte { return mk(c, at(now, "a"), at(5, "b"), at(now, "c")) }, window, ErrInvalidTimestamp, []int32{1}},
		{"records too far ahead", func(c int) []byte { return mk(c, at(now+hour+1, "a"), at(now, "b"), at(now+2*hour, "c")) }, window, ErrInvalidTimestamp, []int32{0, 2}},
		{"no timestamp (-1) is not checked", func(c int) []byte { return mk(c, at(now, "a"), at(-1, "b")) }, window, nil, nil},
		{"no bounds", func(c int) []byte { return mk(c, at(5, "a"), at(now+100*hour, "b")) }, ProduceRules{NowMs: now}, nil, nil},
		{"LogAppendTime topic ignores record timestamps", func(c int) []byte { return mk(c, at(5, "a")) }, lat, nil, nil},
		{"producer marked LogAppendTime, LogAppendTime topic", func(c int) []byte { return producerLAT(c, at(now, "a"), at(now, "b")) }, lat, ErrInvalidTimestamp, []int32{0, 1}},
		{"producer marked LogAppendTime, CreateTime topic", func(c int) []byte { return producerLAT(c, at(5, "a")) }, window, nil, nil},
		{"keyless record, compacted topic", func(c int) []byte { return mk(c, at(now, "a"), at(now, "")) }, compacted, ErrInvalid, []int32{1}},
		{"keyless record, other topic", func(c int) []byte { return mk(c, at(now, "a"), at(now, "")) }, window, nil, nil},
		{"keyless and stamped 1970: timestamp wins", func(c int) []byte { return mk(c, at(now, ""), at(5, "b")) }, compacted, ErrInvalidTimestamp, []int32{0, 1}},
		{"base offset not 0", func(c int) []byte {
			return withHeader(mk(c, at(now, "a")), func(b []byte) { binary.BigEndian.PutUint64(b[offBaseOffset:], 5) })
		}, window, ErrInvalid, nil},
		{"idempotent without a base sequence", func(c int) []byte {
			return withHeader(mk(c, at(now, "a")), func(b []byte) { binary.BigEndian.PutUint64(b[offProducerID:], 7) })
		}, window, ErrInvalid, nil},
		{"a bad record beats refused ones", func(c int) []byte {
			b := mk(c, at(5, "a"), at(5, "b"))
			raw := append([]byte{}, b[HeaderSize:]...)
			if c != CodecNone {
				var err error
				if raw, err = Decompress(c, raw, nil, 1<<20); err != nil {
					t.Fatal(err)
				}
			}
			return setPayloadHeader(cat(b[:HeaderSize:HeaderSize], mustCompress(t, c, cat(raw, []byte{0}))), c, 2)
		}, window, ErrInvalid, nil},
	}
	for _, codec := range codecs {
		for _, tt := range tests {
			t.Run(codecName(codec)+"/"+tt.name, func(t *testing.T) {
				b := tt.b(codec)
				if _, err := Validate(b); err != nil {
					t.Fatal(err)
				}
				c, err := CheckRecords(b, 1<<20, &tt.rules)
				c.Release()
				if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
					t.Fatalf("CheckRecords = %v, want %v", err, tt.want)
				}
				var re *RecordsError
				if errors.As(err, &re) != (tt.refused != nil) {
					t.Fatalf("CheckRecords = %v (%T), want refused records %v", err, err, tt.refused)
				}
				if re == nil {
					return
				}
				var got []int32
				for _, r := range re.Records {
					got = append(got, r.Index)
					if r.Message == "" {
						t.Errorf("record %d refused without a message", r.Index)
					}
				}
				if fmt.Sprint(got) != fmt.Sprint(tt.refused) || re.Refused != len(tt.refused) {
					t.Fatalf("refused %v (%d), want %v", got, re.Refused, tt.refused)
				}
			})
		}
	}
}

func mustCompress(t testing.TB, codec int, p []byte) []byte {
	t.Helper()
	out, err := Compress(codec, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCheckRecordsMaxTimestamp: the max timestamp is the records' own,
// whatever the header says, and SetCreateTime writes it as Kafka does.
func TestCheckRecordsMaxTimestamp(t *testing.T) {
	for _, codec := range codecs {
		t.Run(codecName(codec), func(t *testing.T) {
			b := build(t, NewBatchInfo(codec), []Record{{Timestamp: 1000}, {Timestamp: 3000}, {Timestamp: 2000}})
			binary.BigEndian.PutUint64(b[offMaxTimestamp:], 1500) // a producer that got it wrong
			recrc(b)
			c, err := CheckRecords(b, 1<<20, &ProduceRules{})
			c.Release()
			if err != nil || c.MaxTimestamp != 3000 {
				t.Fatalf("CheckRecords: max %d, %v; want 3000", c.MaxTimestamp, err)
			}
			SetCreateTime(b, c.MaxTimestamp)
			if h, err := Validate(b); err != nil || h.MaxTimestamp() != 3000 || h.LogAppendTime() {
				t.Fatalf("after SetCreateTime: %v", err)
			}
			SetLogAppendTime(b, 9000) // a producer's LogAppendTime batch on a CreateTime topic
			c, err = CheckRecords(b, 1<<20, &ProduceRules{})
			c.Release()
			if err != nil || c.MaxTimestamp != 9000 {
				t.Fatalf("LogAppendTime batch: max %d, %v; want 9000", c.MaxTimestamp, err)
			}
			SetCreateTime(b, c.MaxTimestamp)
			if h, err := Validate(b); err != nil || h.MaxTimestamp() != 9000 || h.LogAppendTime() {
				t.Fatalf("after SetCreateTime: %v", err)
			}
			c, _ = CheckRecords(build(t, NewBatchInfo(codec), []Record{{Timestamp: -1}, {Timestamp: -5}}), 1<<20, nil)
			if c.Release(); c.MaxTimestamp != -1 {
				t.Fatalf("records without timestamps: max %d, want -1", c.MaxTimestamp)
			}
		})
	}
}

// TestRecordErrorsBounded: a batch of many refused records lists the first
// MaxRecordErrors and counts them all.
func TestRecordErrorsBounded(t *testing.T) {
	const n = MaxRecordErrors + 500
	recs := make([]Record, n)
	for i := range recs {
		recs[i] = Record{Timestamp: 5}
	}
	b := build(t, NewBatchInfo(CodecZstd), recs)
	_, err := CheckRecords(b, 1<<20, &ProduceRules{NowMs: 1 << 40, TimestampBeforeMaxMs: 1})
	var re *RecordsError
	if !errors.As(err, &re) || len(re.Records) != MaxRecordErrors || re.Refused != n {
		t.Fatalf("CheckRecords = %v", err)
	}
}

// TestCheckedRecompress: recompressing from the checked records gives the
// batch Recompress gives.
func TestCheckedRecompress(t *testing.T) {
	for _, from := range codecs {
		for _, to := range codecs {
			b := build(t, NewBatchInfo(from), sampleRecords(20, 40))
			want, err := Recompress(b, to, nil, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			c, err := CheckRecords(b, 1<<20, &ProduceRules{})
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.Recompress(b, to, nil)
			c.Release()
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("%s to %s: Checked.Recompress differs from Recompress (%v)", codecName(from), codecName(to), err)
			}
		}
	}
}

// TestCheckRecordsAllocs: an uncompressed batch is checked in place; a
// compressed one reuses the pooled buffer.
func TestCheckRecordsAllocs(t *testing.T) {
	rules := &ProduceRules{NowMs: 1_700_000_000_000, TimestampBeforeMaxMs: 1 << 40, TimestampAfterMaxMs: 1 << 40, RequireKeys: true}
	for _, codec := range codecs {
		b := benchBatch(t, codec)
		allocs := testing.AllocsPerRun(100, func() {
			c, err := CheckRecords(b, 0, rules)
			if err != nil {
				t.Fatal(err)
			}
			c.Release()
		})
		if codec == CodecNone && allocs != 0 {
			t.Errorf("uncompressed: %v allocs, want 0", allocs)
		}
		t.Logf("%s: %v allocs", codecName(codec), allocs)
	}
}
