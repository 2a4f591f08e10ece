package conn

import (
	"bufio"
	"encoding/binary"
	"io"
	"math/bits"
	"sync"

	"github.com/sluice-io/sluice/internal/kafka/wire"
)

// Request frame buffers.
//
// A Produce request is almost all record bytes, up to a few MiB per
// request, which the handler appends to the log before its reply is
// complete (handler/00_produce.go: the batches are written while the
// handler runs; an acks=all reply only waits for the fsync). So once a
// Produce reply has been written, or at once for acks=0 (no reply), no one
// holds a slice of its frame, and the buffer is recycled: steady produce
// traffic then allocates, zeroes and garbage-collects no frame memory
// (issue 5: this was most of the broker's non-syscall CPU under load).
//
// Every other request gets a fresh buffer, as before: its handler may keep
// slices of the request past the reply (a group member's protocol
// metadata, say).
//
// Invariant: a Produce handler keeps no reference to request bytes once
// its Reply is done (or once it returned nil). A change to produce that
// appends after the reply completes must drop recyclable.

// apiProduce is the Produce API key.
const apiProduce = 0

// Pooled frame sizes are powers of two from minPooled to maxPooled;
// larger or smaller frames are allocated and left to the GC.
const (
	minPooledShift = 12 // 4 KiB
	maxPooledShift = 24 // 16 MiB
)

// framePools holds buffers of 1<<(minPooledShift+i) bytes in pool i.
var framePools [maxPooledShift - minPooledShift + 1]sync.Pool

// frame is one request's bytes. A pooled frame goes back to its pool on
// release; release of a nil or unpooled frame does nothing. Not safe for
// concurrent use: one goroutine owns a frame at a time.
type frame struct {
	b    []byte
	pool int // index into framePools, -1 when not pooled
}

// recyclable reports whether frames of API key may be pooled.
func recyclable(key int16) bool { return key == apiProduce }

// poolIndex is the pool for an n-byte frame, or -1.
func poolIndex(n int) int {
	if n <= 1<<minPooledShift/2 || n > 1<<maxPooledShift {
		return -1 // small frames are cheap to allocate; huge ones rare
	}
	shift := bits.Len(uint(n - 1)) // smallest power of two >= n
	return max(shift, minPooledShift) - minPooledShift
}

// getFrame returns a frame of n bytes for API key (contents undefined).
func getFrame(key int16, n int) *frame {
	i := -1
	if recyclable(key) {
		i = poolIndex(n)
	}
	if i < 0 {
		return &frame{b: make([]byte, n), pool: -1}
	}
	if f, ok := framePools[i].Get().(*frame); ok {
		f.b = f.b[:n]
		return f
	}
	return &frame{b: make([]byte, n, 1<<(minPooledShift+i)), pool: i}
}

// release returns a pooled frame to its pool; f must not be used after.
func (f *frame) release() {
	if f == nil || f.pool < 0 {
		return
	}
	framePools[f.pool].Put(f)
}

// readSize reads the size prefix of the next request frame and peeks at
// its API key (the first two bytes after the size), which chooses the
// buffer: the budget admits the request (budget.go) before readBody
// allocates it.
func readSize(r *bufio.Reader, max int32) (n int, key int16, err error) {
	prefix, err := r.Peek(4) // no allocation, unlike reading into a local array
	if err != nil {
		if err == io.EOF && r.Buffered() > 0 {
			err = io.ErrUnexpectedEOF
		}
		return 0, 0, err
	}
	if n, err = wire.FrameSize(prefix, max); err != nil {
		return 0, 0, err
	}
	if _, err := r.Discard(4); err != nil {
		return 0, 0, err
	}
	key = -1
	if n >= 2 {
		if p, err := r.Peek(2); err == nil {
			key = int16(binary.BigEndian.Uint16(p))
		}
	}
	return n, key, nil
}

// readBody reads the n bytes of a request frame of API key.
func readBody(r *bufio.Reader, key int16, n int) (*frame, error) {
	f := getFrame(key, n)
	if _, err := io.ReadFull(r, f.b); err != nil {
		f.release()
		return nil, err
	}
	return f, nil
}
