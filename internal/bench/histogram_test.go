package bench

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// reference is the exact quantile of sorted values, with the same rank
// rule as Histogram.Quantile.
func reference(sorted []int64, q float64) int64 {
	rank := int(math.Ceil(q * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

func TestHistogramQuantiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	tests := []struct {
		name string
		gen  func() int64
		n    int
	}{
		{"small exact", func() int64 { return rng.Int64N(100) }, 1000},
		{"uniform microseconds", func() int64 { return rng.Int64N(1_000_000) }, 50_000},
		{"lognormal latencies", func() int64 { return int64(math.Exp(rng.NormFloat64()*1.5 + 13)) }, 50_000},
		{"one value", func() int64 { return 123_456_789 }, 10},
		{"huge", func() int64 { return math.MaxInt64 - rng.Int64N(1<<40) }, 100},
	}
	quantiles := []float64{0.001, 0.1, 0.5, 0.9, 0.99, 0.999, 1}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h Histogram
			vals := make([]int64, tt.n)
			for i := range vals {
				vals[i] = tt.gen()
				h.Record(vals[i])
			}
			slices.Sort(vals)
			if h.Count() != uint64(tt.n) || h.Min() != vals[0] || h.Max() != vals[len(vals)-1] {
				t.Fatalf("count/min/max = %d/%d/%d, want %d/%d/%d", h.Count(), h.Min(), h.Max(), tt.n, vals[0], vals[len(vals)-1])
			}
			for _, q := range quantiles {
				want, got := reference(vals, q), h.Quantile(q)
				// never below the true value, at most one bucket width (<= want/128) above
				if got < want || uint64(got-want) > uint64(want)>>subBucketBits {
					t.Errorf("Quantile(%v) = %d, want %d (within +%d)", q, got, want, want>>subBucketBits)
				}
			}
		})
	}
}

func TestHistogramSmallValuesExact(t *testing.T) {
	var h Histogram
	for v := int64(0); v < subBuckets; v++ {
		h.Record(v)
	}
	for _, tt := range []struct {
		q    float64
		want int64
	}{{0.5, 63}, {1.0 / 128, 0}, {1, 127}} {
		if got := h.Quantile(tt.q); got != tt.want {
			t.Errorf("Quantile(%v) = %d, want %d", tt.q, got, tt.want)
		}
	}
}

func TestHistogramBuckets(t *testing.T) {
	// Buckets are contiguous: every value lies in its bucket, and the
	// bucket after it starts right above the bucket's top.
	for _, v := range []int64{0, 1, 127, 128, 129, 255, 256, 257, 1000, 1 << 20, 1<<40 + 12345, math.MaxInt64} {
		i := bucketOf(v)
		if i < 0 || i >= numBuckets {
			t.Fatalf("bucketOf(%d) = %d out of range", v, i)
		}
		if v > bucketHigh(i) || (i > 0 && v <= bucketHigh(i-1)) {
			t.Errorf("value %d not within bucket %d (%d, %d]", v, i, bucketHigh(max(i-1, 0)), bucketHigh(i))
		}
		if i+1 < numBuckets && bucketOf(bucketHigh(i)+1) != i+1 {
			t.Errorf("bucket after %d does not start at %d", i, bucketHigh(i)+1)
		}
	}
}

func TestHistogramMergeAndEdges(t *testing.T) {
	var a, b, all Histogram
	for i := int64(1); i <= 1000; i++ {
		all.Record(i * 1000)
		if i%2 == 0 {
			a.Record(i * 1000)
		} else {
			b.Record(i * 1000)
		}
	}
	a.Merge(&b)
	for _, q := range []float64{0.5, 0.99, 0.999} {
		if a.Quantile(q) != all.Quantile(q) {
			t.Errorf("merged Quantile(%v) = %d, want %d", q, a.Quantile(q), all.Quantile(q))
		}
	}
	if a.Count() != 1000 || a.Min() != 1000 || a.Max() != 1_000_000 || a.Mean() != all.Mean() {
		t.Errorf("merged count/min/max/mean = %d/%d/%d/%v", a.Count(), a.Min(), a.Max(), a.Mean())
	}
	var empty Histogram
	a.Merge(&empty)
	if a.Count() != 1000 {
		t.Errorf("merging an empty histogram changed the count to %d", a.Count())
	}
	if empty.Quantile(0.5) != 0 || empty.Mean() != 0 {
		t.Error("empty histogram: want zero quantile and mean")
	}
	empty.Record(-5)
	if empty.Min() != 0 || empty.Max() != 0 {
		t.Errorf("negative value recorded as min %d max %d, want 0", empty.Min(), empty.Max())
	}
	a.Reset()
	if a.Count() != 0 || a.Quantile(0.5) != 0 {
		t.Error("Reset left values")
	}
}

func TestHistogramRecordDoesNotAllocate(t *testing.T) {
	var h Histogram
	if n := testing.AllocsPerRun(100, func() { h.Record(123456) }); n != 0 {
		t.Errorf("Record allocates %v times", n)
	}
}
