package conn

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"github.com/sluice-io/sluice/internal/kafka/wire"
)

func TestPoolIndex(t *testing.T) {
	tests := []struct {
		n, want int
	}{
		{1, -1},
		{2 << 10, -1},        // small: allocated
		{2<<10 + 1, 0},       // 4 KiB class
		{4 << 10, 0},         //
		{4<<10 + 1, 1},       // 8 KiB
		{1 << 20, 8},         // 1 MiB
		{1<<20 + 1, 9},       // 2 MiB
		{16 << 20, 12},       // largest class
		{16<<20 + 1, -1},     // huge: allocated
		{100 << 20, -1},      //
		{3 << 20, 10},        // 4 MiB
		{(1 << 20) - 1, 8},   //
		{(8 << 10) + 100, 2}, // 16 KiB
	}
	for _, tt := range tests {
		if got := poolIndex(tt.n); got != tt.want {
			t.Errorf("poolIndex(%d) = %d, want %d", tt.n, got, tt.want)
		}
		if i := poolIndex(tt.n); i >= 0 && 1<<(minPooledShift+i) < tt.n {
			t.Errorf("poolIndex(%d) = %d: class too small", tt.n, i)
		}
	}
}

// frameBytes is a request frame with the size prefix: key, then filler.
func frameBytes(key int16, n int) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(n))
	b = binary.BigEndian.AppendUint16(b, uint16(key))
	return append(b, bytes.Repeat([]byte{7}, n-2)...)
}

func TestReadFrame(t *testing.T) {
	tests := []struct {
		name   string
		input  []byte
		pooled bool
		err    error
	}{
		{"small produce: allocated", frameBytes(0, 100), false, nil},
		{"large produce: pooled", frameBytes(0, 64<<10), true, nil},
		{"large fetch: allocated (handlers may keep it)", frameBytes(1, 64<<10), false, nil},
		{"large join group: allocated", frameBytes(11, 64<<10), false, nil},
		{"too large", frameBytes(0, 2<<20), false, wire.ErrFrameTooLarge},
		{"negative size", []byte{0xff, 0xff, 0xff, 0xff, 0, 0}, false, wire.ErrFrameTooLarge},
		{"clean end", nil, false, io.EOF},
		{"torn size", []byte{0, 0}, false, io.ErrUnexpectedEOF},
		{"torn body", frameBytes(0, 64<<10)[:1000], false, io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := bufio.NewReaderSize(bytes.NewReader(tt.input), readBufferSize)
			n, key, err := readSize(r, 1<<20)
			var f *frame
			if err == nil {
				f, err = readBody(r, key, n)
			}
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if err != nil {
				return
			}
			defer f.release()
			if !bytes.Equal(f.b, tt.input[4:]) {
				t.Error("frame bytes differ from the input")
			}
			if got := f.pool >= 0; got != tt.pooled {
				t.Errorf("pooled = %v, want %v", got, tt.pooled)
			}
		})
	}
}

// TestFrameRecycled: a released produce frame's buffer serves the next
// produce frame of its class, so steady produce traffic allocates no
// frame memory. (The race detector makes sync.Pool drop items at random.)
func TestFrameRecycled(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	getFrame(0, 300<<10).release()
	allocs := testing.AllocsPerRun(100, func() {
		f := getFrame(0, 300<<10)
		if len(f.b) != 300<<10 {
			t.Fatalf("frame of %d bytes", len(f.b))
		}
		f.release()
	})
	if allocs != 0 {
		t.Errorf("%v allocations per recycled produce frame", allocs)
	}
	if n := testing.AllocsPerRun(10, func() { getFrame(11, 300<<10).release() }); n == 0 {
		t.Error("a JoinGroup frame came from the pool")
	}
}
