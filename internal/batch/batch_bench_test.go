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
