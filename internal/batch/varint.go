package batch

import "encoding/binary"

// Records use zig-zag varints (protobuf's sint32/sint64): a varint is at
// most 5 bytes and must fit 32 bits, a varlong at most 10 bytes. These
// readers report n <= 0 on a short or overlong encoding, like Kafka's
// ByteUtils.readVarint/readVarlong, which reject both.

// readVarint reads a zig-zag varint of at most 5 bytes.
func readVarint(b []byte) (int32, int) {
	if len(b) > 0 && b[0] < 0x80 { // one byte: most lengths and deltas
		return int32(b[0]>>1) ^ -int32(b[0]&1), 1
	}
	var u uint32
	for i := 0; i < 5 && i < len(b); i++ {
		c := b[i]
		if i == 4 && c > 0x0f {
			return 0, -1 // more than 32 bits, or a sixth byte
		}
		u |= uint32(c&0x7f) << (7 * i)
		if c < 0x80 {
			return int32(u>>1) ^ -int32(u&1), i + 1
		}
	}
	return 0, 0
}

// readVarlong reads a zig-zag varint of at most 10 bytes.
func readVarlong(b []byte) (int64, int) {
	if len(b) > 0 && b[0] < 0x80 {
		return int64(b[0]>>1) ^ -int64(b[0]&1), 1
	}
	return binary.Varint(b)
}

func appendVarint(b []byte, v int32) []byte {
	return binary.AppendUvarint(b, uint64(uint32(v<<1)^uint32(v>>31)))
}

func appendVarlong(b []byte, v int64) []byte {
	return binary.AppendVarint(b, v)
}

func sizeVarint(v int32) int {
	u := uint32(v<<1) ^ uint32(v>>31)
	n := 1
	for u >= 0x80 {
		u >>= 7
		n++
	}
	return n
}

func sizeVarlong(v int64) int {
	u := uint64(v<<1) ^ uint64(v>>63)
	n := 1
	for u >= 0x80 {
		u >>= 7
		n++
	}
	return n
}
