package batch

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/pierrec/lz4/v4"
)

// Compress appends src compressed with codec to dst and returns the
// extended slice. Output is what Kafka clients read: a gzip stream, a raw
// snappy block (as franz-go and librdkafka write it; every Kafka client
// reads it), an LZ4 frame with 64 KiB blocks (as the Java producer writes
// it), or a zstd frame. CodecNone appends src unchanged.
//
// Encoders are pooled; Compress is safe for concurrent use.
func Compress(codec int, src, dst []byte) ([]byte, error) {
	switch codec {
	case CodecNone:
		return append(dst, src...), nil
	case CodecGzip:
		return gzipCompress(src, dst)
	case CodecSnappy:
		return snappyCompress(src, dst), nil
	case CodecLZ4:
		return lz4Compress(src, dst)
	case CodecZstd:
		return zstdCompress(src, dst), nil
	}
	return dst, fmt.Errorf("%w: compression codec %d", ErrInvalid, codec)
}

// maxDecompressLimit caps every limit: no batch decompresses past 2 GiB.
const maxDecompressLimit = math.MaxInt32

// Decompress appends src, compressed with codec, decompressed to dst and
// returns the extended slice. It never produces more than maxSize bytes
// (at most 2 GiB):
// a payload that would decompress further fails with ErrTooLarge before
// much more than maxSize bytes are allocated. A payload that does not
// decode fails with ErrCorrupt, an unknown codec with ErrInvalid.
//
// Snappy accepts both framings seen from Kafka clients: the xerial stream
// of the Java client and a raw snappy block (franz-go, librdkafka, Sarama).
//
// Decoders are pooled; Decompress is safe for concurrent use. On error the
// returned slice is dst with unspecified bytes past len(dst).
func Decompress(codec int, src, dst []byte, maxSize int) ([]byte, error) {
	return decompress(codec, src, dst, maxSize, ErrCorrupt)
}

// decompress is Decompress with a payload that does not decode failing
// with bad: stored batches are corrupt (ErrCorrupt), produced ones are
// refused as Kafka refuses them (ErrDecompress, CheckRecords).
func decompress(codec int, src, dst []byte, maxSize int, bad error) ([]byte, error) {
	maxSize = max(0, min(maxSize, maxDecompressLimit))
	var out []byte
	var err error
	switch codec {
	case CodecNone:
		if len(src) > maxSize {
			return dst, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(src), maxSize)
		}
		return append(dst, src...), nil
	case CodecGzip:
		out, err = gzipDecompress(src, dst, maxSize)
	case CodecSnappy:
		out, err = snappyDecompress(src, dst, maxSize)
	case CodecLZ4:
		out, err = lz4Decompress(src, dst, maxSize)
	case CodecZstd:
		out, err = zstdDecompress(src, dst, maxSize)
	default:
		return dst, fmt.Errorf("%w: compression codec %d", ErrInvalid, codec)
	}
	if err != nil {
		if errors.Is(err, ErrTooLarge) {
			return dst, fmt.Errorf("%w: %s codec, limit %d", ErrTooLarge, codecName(codec), maxSize)
		}
		return dst, fmt.Errorf("%w: %s: %v", bad, codecName(codec), err)
	}
	return out, nil
}

func codecName(codec int) string {
	switch codec {
	case CodecNone:
		return "none"
	case CodecGzip:
		return "gzip"
	case CodecSnappy:
		return "snappy"
	case CodecLZ4:
		return "lz4"
	case CodecZstd:
		return "zstd"
	}
	return fmt.Sprintf("codec(%d)", codec)
}

// appendWriter is an io.Writer that appends to a slice; the streaming
// encoders write into it so that their output lands in the caller's dst.
type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

type gzipEncoder struct {
	w   *gzip.Writer
	out appendWriter
}

type gzipDecoder struct {
	r   gzip.Reader
	src bytes.Reader
}

type lz4Encoder struct {
	w   *lz4.Writer
	out appendWriter
}

type lz4Decoder struct {
	r   *lz4.Reader
	src bytes.Reader
}

var (
	gzipEncoders = sync.Pool{New: func() any {
		// Kafka's Java producer uses the JDK default level (6), as
		// gzip.DefaultCompression does.
		w, _ := gzip.NewWriterLevel(nil, gzip.DefaultCompression)
		return &gzipEncoder{w: w}
	}}
	gzipDecoders = sync.Pool{New: func() any { return new(gzipDecoder) }}
	lz4Encoders  = sync.Pool{New: func() any {
		w := lz4.NewWriter(nil)
		// 64 KiB blocks, as the Java producer writes them; the
		// library default (4 MiB) would hold a 4 MiB buffer per
		// pooled writer.
		_ = w.Apply(lz4.BlockSizeOption(lz4.Block64Kb))
		return &lz4Encoder{w: w}
	}}
	lz4Decoders = sync.Pool{New: func() any { return &lz4Decoder{r: lz4.NewReader(nil)} }}
)

func gzipCompress(src, dst []byte) ([]byte, error) {
	e := gzipEncoders.Get().(*gzipEncoder)
	defer gzipEncoders.Put(e)
	e.out.b = dst
	defer func() { e.out.b = nil }()
	e.w.Reset(&e.out)
	if _, err := e.w.Write(src); err != nil {
		return dst, fmt.Errorf("gzip: %w", err)
	}
	if err := e.w.Close(); err != nil {
		return dst, fmt.Errorf("gzip: %w", err)
	}
	return e.out.b, nil
}

func gzipDecompress(src, dst []byte, maxSize int) ([]byte, error) {
	d := gzipDecoders.Get().(*gzipDecoder)
	defer gzipDecoders.Put(d)
	defer d.src.Reset(nil)
	d.src.Reset(src)
	if err := d.r.Reset(&d.src); err != nil {
		return dst, err
	}
	return readBounded(&d.r, dst, maxSize, len(src))
}

func lz4Compress(src, dst []byte) ([]byte, error) {
	e := lz4Encoders.Get().(*lz4Encoder)
	defer lz4Encoders.Put(e)
	e.out.b = dst
	defer func() { e.out.b = nil }()
	e.w.Reset(&e.out)
	if _, err := e.w.Write(src); err != nil {
		return dst, fmt.Errorf("lz4: %w", err)
	}
	if err := e.w.Close(); err != nil {
		return dst, fmt.Errorf("lz4: %w", err)
	}
	return e.out.b, nil
}

func lz4Decompress(src, dst []byte, maxSize int) ([]byte, error) {
	d := lz4Decoders.Get().(*lz4Decoder)
	defer lz4Decoders.Put(d)
	defer d.src.Reset(nil)
	d.src.Reset(src)
	d.r.Reset(&d.src)
	return readBounded(d.r, dst, maxSize, len(src))
}

// readBounded appends everything r yields to dst, failing with
// ErrTooLarge as soon as more than maxSize bytes come out. It never asks r
// for more than maxSize+1 bytes, so memory stays within about maxSize.
func readBounded(r io.Reader, dst []byte, maxSize, srcLen int) ([]byte, error) {
	start := len(dst)
	for {
		got := len(dst) - start
		if got > maxSize {
			return dst, ErrTooLarge
		}
		room := maxSize + 1 - got
		if len(dst) == cap(dst) {
			dst = slices.Grow(dst, min(room, max(got, 4*srcLen, 4<<10)))
		}
		n, err := r.Read(dst[len(dst):min(cap(dst), len(dst)+room)])
		dst = dst[:len(dst)+n]
		if err == io.EOF {
			if len(dst)-start > maxSize {
				return dst, ErrTooLarge
			}
			return dst, nil
		}
		if err != nil {
			return dst, err
		}
	}
}
