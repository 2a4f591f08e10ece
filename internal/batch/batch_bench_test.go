package batch

import (
	"fmt"
	"testing"
)

// benchBatch is a produce-sized batch: 16 records of 1 KiB values.
func benchBatch(b testing.TB, codec int) []byte {
	recs := make([]Record, 16)
	for i := range recs {
		v := make([]byte, 1024)
		for j := range v {
			v[j] = byte(i*31 + j*7)
		}
		recs[i] = Record{Timestamp: 1_700_000_000_000 + int64(i), Key: []byte(fmt.Sprintf("key-%02d", i)), Value: v}
	}
	return build(b, NewBatchInfo(codec), recs)
}

func BenchmarkValidate(b *testing.B) {
	batch := benchBatch(b, CodecNone)
	b.SetBytes(int64(len(batch)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Validate(batch); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkComputeCRC(b *testing.B) {
	batch := benchBatch(b, CodecNone)
	b.SetBytes(int64(len(batch) - offAttributes))
	b.ReportAllocs()
	for b.Loop() {
		ComputeCRC(batch)
	}
}

func BenchmarkRecords(b *testing.B) {
	for _, codec := range codecs {
		b.Run(codecName(codec), func(b *testing.B) {
			batch := benchBatch(b, codec)
			var r Reader
			b.SetBytes(16 * 1024)
			b.ReportAllocs()
			for b.Loop() {
				if err := r.Records(batch, func(*Record) error { return nil }); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkCompress(b *testing.B) {
	payload := benchBatch(b, CodecNone)[HeaderSize:]
	for _, codec := range codecs[1:] {
		b.Run(codecName(codec), func(b *testing.B) {
			var dst []byte
			b.SetBytes(int64(len(payload)))
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if dst, err = Compress(codec, payload, dst[:0]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestValidateAllocs: the produce hot path allocates nothing.
func TestValidateAllocs(t *testing.T) {
	batch := benchBatch(t, CodecNone)
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := Validate(batch); err != nil {
			t.Fatal(err)
		}
		SetBaseOffset(batch, 5)
		SetLeaderEpoch(batch, 2)
		_, _ = ScanStored(batch, func(Header) error { return nil })
	})
	if allocs != 0 {
		t.Fatalf("Validate, SetBaseOffset, SetLeaderEpoch, ScanStored: %v allocs, want 0", allocs)
	}
}

// textBatch is a producer's batch of n records with 1 KiB values of
// word-like text (it compresses about as well as JSON or logs).
func textBatch(b testing.TB, codec, n int) []byte {
	words := []string{"order", "id", "status", "shipped", "customer", "amount", "eur", "true", "false", "null", "created_at", "region"}
	recs := make([]Record, n)
	x := uint32(n)
	for i := range recs {
		v := make([]byte, 0, 1100)
		for len(v) < 1024 {
			x = x*1664525 + 1013904223
			v = append(v, words[x>>16%uint32(len(words))]...)
			v = append(v, byte('0'+x>>8%10), ' ')
		}
		recs[i] = Record{Timestamp: 1_700_000_000_000 + int64(i), Key: fmt.Appendf(nil, "key-%d", i), Value: v[:1024]}
	}
	return build(b, NewBatchInfo(codec), recs)
}

// BenchmarkProduceCheck compares, in one run, what produce did to a batch
// before records were checked ("header": Validate) with what it does now
// ("records": Validate and CheckRecords under a topic's rules), for 16 and
// 100 records of 1 KiB per codec. ns/record is the cost per record.
func BenchmarkProduceCheck(b *testing.B) {
	rules := &ProduceRules{NowMs: 1_700_000_000_000, TimestampBeforeMaxMs: 3_600_000, TimestampAfterMaxMs: 3_600_000}
	for _, codec := range codecs {
		for _, n := range []int{16, 100} {
			batch := textBatch(b, codec, n)
			for _, mode := range []string{"header", "records"} {
				b.Run(fmt.Sprintf("codec=%s/records=%d/check=%s", codecName(codec), n, mode), func(b *testing.B) {
					b.SetBytes(int64(len(batch)))
					b.ReportAllocs()
					for b.Loop() {
						if _, err := Validate(batch); err != nil {
							b.Fatal(err)
						}
						if mode == "header" {
							continue
						}
						c, err := CheckRecords(batch, 0, rules)
						if err != nil {
							b.Fatal(err)
						}
						c.Release()
					}
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
				})
			}
		}
	}
}

// BenchmarkProduceRecompress compares a topic that recompresses (lz4 from
// the producer, zstd for the topic) before ("twice": CheckKeys-style
// decompression then Recompress, which decompresses again) and now
// ("once": CheckRecords then Checked.Recompress).
func BenchmarkProduceRecompress(b *testing.B) {
	for _, n := range []int{16, 100} {
		batch := textBatch(b, CodecLZ4, n)
		for _, mode := range []string{"recompress-only", "twice", "once"} {
			b.Run(fmt.Sprintf("records=%d/path=%s", n, mode), func(b *testing.B) {
				b.SetBytes(int64(len(batch)))
				b.ReportAllocs()
				var dst []byte
				for b.Loop() {
					var err error
					switch mode {
					case "recompress-only": // today's path without any record check
						dst, err = Recompress(batch, CodecZstd, dst[:0], DefaultMaxUncompressed)
					case "twice": // a record check that decompresses on its own, then Recompress
						if err = Records(batch, func(*Record) error { return nil }); err == nil {
							dst, err = Recompress(batch, CodecZstd, dst[:0], DefaultMaxUncompressed)
						}
					case "once":
						var c Checked
						if c, err = CheckRecords(batch, 0, &ProduceRules{}); err == nil {
							dst, err = c.Recompress(batch, CodecZstd, dst[:0])
							c.Release()
						}
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
			})
		}
	}
}
