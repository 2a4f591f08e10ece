package batch

import (
	"encoding/binary"
	"math"
	"testing"
)

// TestReadVarint: the readers agree with the writers on every size of
// encoding, and refuse short and overlong ones as Kafka's ByteUtils does.
func TestReadVarint(t *testing.T) {
	for _, v := range []int32{0, 1, -1, 63, -64, 64, -65, 8191, -8192, 1 << 20, math.MaxInt32, math.MinInt32} {
		b := appendVarint(nil, v)
		if got, n := readVarint(b); got != v || n != len(b) || n != sizeVarint(v) {
			t.Errorf("readVarint(%x) = %d, %d; want %d, %d", b, got, n, v, len(b))
		}
		if _, n := readVarint(b[:len(b)-1]); n > 0 {
			t.Errorf("readVarint of %d short by a byte: n = %d", v, n)
		}
	}
	for _, v := range []int64{0, 1, -1, 63, -64, 64, 1 << 40, math.MaxInt64, math.MinInt64} {
		b := appendVarlong(nil, v)
		if got, n := readVarlong(b); got != v || n != len(b) || n != sizeVarlong(v) {
			t.Errorf("readVarlong(%x) = %d, %d; want %d, %d", b, got, n, v, len(b))
		}
	}
	for _, bad := range [][]byte{
		{0xff, 0xff, 0xff, 0xff, 0x10},       // a fifth byte past 32 bits
		{0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, // six bytes
		{}, {0x80},
	} {
		if _, n := readVarint(bad); n > 0 {
			t.Errorf("readVarint(%x) accepted %d bytes", bad, n)
		}
	}
	if _, n := readVarlong(binary.AppendUvarint([]byte{0x80}, math.MaxUint64)); n > 0 {
		t.Errorf("readVarlong of 11 bytes accepted")
	}
}
