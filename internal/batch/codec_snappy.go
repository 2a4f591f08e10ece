package batch

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/snappy"
)

// Kafka's Java client frames snappy with the xerial snappy-java stream: a
// 16-byte header (an 8-byte magic, a version and a minimum compatible
// version) and then blocks, each a big-endian uint32 length and a raw snappy
// block. Other clients (franz-go, librdkafka, Sarama) send one raw snappy
// block; the Java reader accepts both, and so do we.
var xerialMagic = []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0}

const xerialHeaderSize = 16

var errXerial = errors.New("malformed xerial snappy framing")

// snappyCompress appends one raw snappy block, as franz-go writes it.
func snappyCompress(src, dst []byte) []byte {
	dst = slices.Grow(dst, s2.MaxEncodedLen(len(src)))
	// EncodeSnappy writes in place when given the room.
	enc := s2.EncodeSnappy(dst[len(dst):cap(dst)], src)
	return dst[:len(dst)+len(enc)]
}

func snappyDecompress(src, dst []byte, maxSize int) ([]byte, error) {
	if len(src) >= xerialHeaderSize && bytes.HasPrefix(src, xerialMagic) {
		return xerialDecompress(src[xerialHeaderSize:], dst, maxSize)
	}
	return appendSnappyBlock(src, dst, maxSize)
}

// xerialDecompress checks every block length and claimed decoded size
// before decoding anything, so that dst grows once and a lying header
// cannot make it allocate past maxSize.
func xerialDecompress(src, dst []byte, maxSize int) ([]byte, error) {
	total := 0
	for rest := src; len(rest) > 0; {
		if len(rest) < 4 {
			return dst, errXerial
		}
		n := binary.BigEndian.Uint32(rest)
		rest = rest[4:]
		if uint64(n) > uint64(len(rest)) {
			return dst, errXerial
		}
		l, err := snappy.DecodedLen(rest[:n])
		if err != nil {
			return dst, err
		}
		if total += l; total > maxSize {
			return dst, ErrTooLarge
		}
		rest = rest[n:]
	}
	dst = slices.Grow(dst, total)
	for len(src) > 0 {
		n := binary.BigEndian.Uint32(src)
		var err error
		if dst, err = appendSnappyBlock(src[4:4+n], dst, maxSize); err != nil {
			return dst, err
		}
		src = src[4+n:]
	}
	return dst, nil
}

// appendSnappyBlock decodes one raw snappy block after dst. It uses the
// strict decoder: the s2 extensions that klauspost's default decoder
// accepts are not snappy, and a Java consumer could not read them.
func appendSnappyBlock(block, dst []byte, maxSize int) ([]byte, error) {
	l, err := snappy.DecodedLen(block)
	if err != nil {
		return dst, err
	}
	if l > maxSize {
		return dst, ErrTooLarge
	}
	dst = slices.Grow(dst, l)
	out, err := snappy.DecodeStrict(dst[len(dst):len(dst)+l], block)
	if err != nil {
		return dst, err
	}
	if len(out) != l {
		return dst, snappy.ErrCorrupt
	}
	return dst[:len(dst)+l], nil
}
