package replica

import (
	"path/filepath"
	"testing"

	"github.com/sluice-io/sluice/internal/storage/storagetest"
)

// BenchmarkAppendIdempotent measures the producer-state work on the
// produce path: the check, the append and the update of one batch of 10
// records. It must not allocate.
func BenchmarkAppendIdempotent(b *testing.B) {
	for _, tc := range []struct {
		name string
		pid  int64
	}{{"plain", -1}, {"idempotent", 7}} {
		b.Run(tc.name, func(b *testing.B) {
			cfg := testPartitionConfig()
			p := openPartition(b, filepath.Join(b.TempDir(), "t-0"), cfg)
			buf := storagetest.Idempotent(10, tc.pid, 0, 0, testNow)
			b.ReportAllocs()
			b.SetBytes(int64(len(buf)))
			seq := int32(0)
			for b.Loop() {
				if tc.pid >= 0 {
					storagetest.SetProducer(buf, tc.pid, 0, seq)
					seq += 10
				}
				if _, _, err := p.Append(buf, testNow); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
