package batch

import (
	"errors"
	"math/bits"
	"slices"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// zstdMinBudget is the smallest decode budget a pooled decoder gets. The
// decoder refuses frames whose window is larger than its budget, and the
// Java producer's streaming zstd declares a window from its level (2 MiB
// at the default level 3, 8 MiB at level 19) even for a tiny batch.
// DecodeAll writes straight into the output, so the window itself costs no
// memory; only the output does, and that is bounded by the budget.
const zstdMinBudget = 8 << 20

// zstdDecoders holds decoders by budget class: class c decodes at most
// 1<<c bytes. A decoder's budget is fixed when it is made, and a zstd
// decoder is expensive to make, so decoders are pooled per power of two at
// or above the caller's limit; the exact limit is checked after decoding.
var zstdDecoders [64]sync.Pool

// zstdEncoders: EncodeAll on one goroutine, no frames for empty input.
// Decoders and encoders made with concurrency 1 start no goroutines, so
// pooled ones that the GC drops need no Close.
var zstdEncoders = sync.Pool{New: func() any {
	e, err := zstd.NewWriter(nil,
		zstd.WithEncoderConcurrency(1),
		zstd.WithZeroFrames(true),
		zstd.WithLowerEncoderMem(true),
	)
	if err != nil {
		panic("zstd: static encoder options rejected: " + err.Error())
	}
	return e
}}

func zstdCompress(src, dst []byte) []byte {
	e := zstdEncoders.Get().(*zstd.Encoder)
	defer zstdEncoders.Put(e)
	dst = slices.Grow(dst, e.MaxEncodedSize(len(src)))
	return e.EncodeAll(src, dst)
}

func zstdDecompress(src, dst []byte, maxSize int) ([]byte, error) {
	class := bits.Len(uint(max(maxSize, zstdMinBudget)))
	pool := &zstdDecoders[class]
	d, _ := pool.Get().(*zstd.Decoder)
	if d == nil {
		var err error
		d, err = zstd.NewReader(nil,
			zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxMemory(1<<class),
		)
		if err != nil {
			panic("zstd: static decoder options rejected: " + err.Error())
		}
	}
	defer pool.Put(d)
	start := len(dst)
	out, err := d.DecodeAll(src, dst)
	if errors.Is(err, zstd.ErrDecoderSizeExceeded) || errors.Is(err, zstd.ErrWindowSizeExceeded) {
		return dst, ErrTooLarge
	}
	if err != nil {
		return dst, err
	}
	if len(out)-start > maxSize {
		return dst, ErrTooLarge
	}
	return out, nil
}
