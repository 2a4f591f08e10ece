package batch

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Recompress appends to dst a copy of the single batch b whose payload is
// re-encoded with codec, with the same header fields, a new length and a
// new CRC. The produce path uses it (through Checked.Recompress, which
// skips the decompression) when a topic's compression.type asks for
// another codec than the producer used. Decompression is bounded at
// maxUncompressed bytes. The framing is checked; the CRC of b is not
// (Validate it first).
//
// Safe for concurrent use.
func Recompress(b []byte, codec int, dst []byte, maxUncompressed int) ([]byte, error) {
	h, err := frame(b)
	if err != nil {
		return dst, err
	}
	payload := b[HeaderSize:]
	if len(payload) > 0 {
		r := readers.Get().(*Reader)
		defer putReader(r)
		if r.buf, err = Decompress(h.Codec(), payload, r.buf[:0], maxUncompressed); err != nil {
			return dst, err
		}
		payload = r.buf
	}
	return reencode(b, payload, codec, dst)
}

// reencode appends to dst the header of batch b followed by payload, b's
// records uncompressed, compressed with codec; then it fixes the codec,
// the length and the CRC.
func reencode(b, payload []byte, codec int, dst []byte) ([]byte, error) {
	if codec < CodecNone || codec > CodecZstd {
		return dst, fmt.Errorf("%w: compression codec %d", ErrInvalid, codec)
	}
	start := len(dst)
	dst = append(dst, b[:HeaderSize]...)
	if len(payload) > 0 {
		var err error
		if dst, err = Compress(codec, payload, dst); err != nil {
			return dst[:start], err
		}
	}
	out := dst[start:]
	if len(out)-LogOverhead > math.MaxInt32 {
		return dst[:start], fmt.Errorf("%w: batch of %d bytes", ErrInvalid, len(out))
	}
	attrs := binary.BigEndian.Uint16(out[offAttributes:])&^CompressionMask | uint16(codec)
	binary.BigEndian.PutUint16(out[offAttributes:], attrs)
	binary.BigEndian.PutUint32(out[offBatchLength:], uint32(len(out)-LogOverhead))
	binary.BigEndian.PutUint32(out[offCRC:], ComputeCRC(out))
	return dst, nil
}
