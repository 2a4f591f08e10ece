package bench

import (
	"math"
	"math/bits"
	"time"
)

// subBucketBits sets the histogram's precision: each power-of-two range of
// values is split into 2^subBucketBits equal buckets, so a recorded value
// is known to within 1/2^subBucketBits (0.8%) of itself.
const subBucketBits = 7

const (
	subBuckets = 1 << subBucketBits
	// numBuckets covers every non-negative int64: values below subBuckets
	// get one bucket each, then each power of two from 2^subBucketBits to
	// 2^62 gets subBuckets buckets.
	numBuckets = (64 - subBucketBits) * subBuckets
)

// Histogram counts non-negative int64 values (latencies in nanoseconds) in
// log-linear buckets, as HdrHistogram does: recording is an index
// computation and an increment, with no allocation, and any quantile is
// read back within 0.8% of the true value. It uses 58 KiB.
//
// A Histogram is not safe for concurrent use: give each goroutine its own
// and Merge them.
type Histogram struct {
	counts [numBuckets]uint64
	n      uint64
	min    int64
	max    int64
	sum    float64
}

// bucketOf is the index of the bucket that holds v (v >= 0).
func bucketOf(v int64) int {
	if v < subBuckets {
		return int(v)
	}
	shift := bits.Len64(uint64(v)) - 1 - subBucketBits
	return (shift+1)<<subBucketBits + int(v>>shift) - subBuckets
}

// bucketHigh is the highest value bucket i holds.
func bucketHigh(i int) int64 {
	if i < subBuckets {
		return int64(i)
	}
	shift := i>>subBucketBits - 1
	low := int64(i&(subBuckets-1)+subBuckets) << shift
	return low + (int64(1)<<shift - 1)
}

// Record adds one value; a negative value counts as 0.
func (h *Histogram) Record(v int64) {
	v = max(v, 0)
	h.counts[bucketOf(v)]++
	if h.n == 0 || v < h.min {
		h.min = v
	}
	h.max = max(h.max, v)
	h.n++
	h.sum += float64(v)
}

// RecordDuration is Record of d in nanoseconds.
func (h *Histogram) RecordDuration(d time.Duration) { h.Record(int64(d)) }

// Merge adds every value of o to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.n == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	h.n += o.n
	h.sum += o.sum
}

// Reset forgets every value.
func (h *Histogram) Reset() { *h = Histogram{} }

// Count is the number of values recorded.
func (h *Histogram) Count() uint64 { return h.n }

// Max is the largest value recorded (exact), 0 when empty.
func (h *Histogram) Max() int64 { return h.max }

// Min is the smallest value recorded (exact), 0 when empty.
func (h *Histogram) Min() int64 { return h.min }

// Mean is the average of the values recorded, 0 when empty.
func (h *Histogram) Mean() float64 {
	if h.n == 0 {
		return 0
	}
	return h.sum / float64(h.n)
}

// Quantile returns the value at quantile q (0 < q <= 1): the smallest value
// v such that at least q of the values are <= v, rounded up to the top of
// its bucket (so it is never below the true value, and at most 0.8% above
// it), and clamped to [Min, Max]. It returns 0 when empty.
func (h *Histogram) Quantile(q float64) int64 {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return min(max(bucketHigh(i), h.min), h.max)
		}
	}
	return h.max // not reached: the counts sum to n
}
