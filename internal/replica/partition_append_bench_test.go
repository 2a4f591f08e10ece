package replica

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/sluice-io/sluice/internal/batch"
)

// BenchmarkAppendHeld measures the whole produce path of one partition:
// validation, recompression where the topic asks for it, and the append
// to the log (page cache, no fsync), for batches of 1 KiB records as a
// producer sends them. ns/record is the produce CPU per record. The log is
// trimmed by retention outside the timer, so the run does not fill the
// disk.
func BenchmarkAppendHeld(b *testing.B) {
	type tc struct {
		from, to int // the producer's codec, the topic's (-1: "producer")
	}
	cases := []tc{
		{batch.CodecNone, -1}, {batch.CodecGzip, -1}, {batch.CodecSnappy, -1},
		{batch.CodecLZ4, -1}, {batch.CodecZstd, -1},
		{batch.CodecNone, batch.CodecZstd}, {batch.CodecLZ4, batch.CodecZstd},
	}
	for _, c := range cases {
		for _, n := range []int{16, 100} {
			name := fmt.Sprintf("%s/%d", codecLabel(c.from), n)
			if c.to >= 0 {
				name = fmt.Sprintf("%s-to-%s/%d", codecLabel(c.from), codecLabel(c.to), n)
			}
			b.Run(name, func(b *testing.B) {
				cfg := testPartitionConfig()
				cfg.Codec = c.to
				cfg.MaxMessageBytes = 8 << 20
				cfg.Storage.SegmentBytes = 16 << 20
				cfg.Storage.RetentionBytes = 32 << 20
				p := openPartition(b, filepath.Join(b.TempDir(), "t-0"), cfg)
				buf := benchProduceBatch(b, c.from, n)
				b.SetBytes(int64(len(buf)))
				b.ReportAllocs()
				b.ResetTimer()
				for i := range b.N {
					if i%256 == 255 {
						b.StopTimer()
						if _, err := p.Log().ApplyRetention(testNow); err != nil {
							b.Fatal(err)
						}
						b.StartTimer()
					}
					// The log writes the base offset in place; a
					// producer always sends 0.
					batch.SetBaseOffset(buf, 0)
					if _, _, err := p.AppendHeld(buf, testNow, AppendOptions{}); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
			})
		}
	}
}

// benchProduceBatch builds a batch of n records with 1 KiB values of
// word-like text (compressible about as well as JSON or logs), keys and
// timestamps as a producer writes them.
func benchProduceBatch(tb testing.TB, codec, n int) []byte {
	words := []string{"order", "id", "status", "shipped", "customer", "amount", "eur", "true", "false", "null", "created_at", "region"}
	rng := rand.New(rand.NewPCG(1, uint64(n)))
	bld := batch.NewBuilder(batch.NewBatchInfo(codec))
	for i := range n {
		v := make([]byte, 0, 1024)
		for len(v) < 1024 {
			v = append(v, words[rng.IntN(len(words))]...)
			v = append(v, byte('0'+rng.IntN(10)), ' ')
		}
		rec := batch.Record{Timestamp: testNow + int64(i), Key: fmt.Appendf(nil, "key-%d", i), Value: v[:1024]}
		if err := bld.Add(&rec); err != nil {
			tb.Fatal(err)
		}
	}
	out, err := bld.Build(nil)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

func codecLabel(c int) string {
	return [...]string{"none", "gzip", "snappy", "lz4", "zstd"}[c]
}
