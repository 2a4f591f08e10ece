package wire

import (
	"bytes"
	"errors"
	"io"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestWriteFrameHeader(t *testing.T) {
	tests := []struct {
		name     string
		flexible bool
		want     []byte
	}{
		{"header v0", false, []byte{0, 0, 0, 8, 0, 0, 0, 7, 0, 0, 0, 9}},
		{"header v1", true, []byte{0, 0, 0, 9, 0, 0, 0, 7, 0, 0, 0, 0, 9}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b Body
			b.i32(9)
			var buf bytes.Buffer
			n, err := b.WriteFrame(&buf, 7, tt.flexible)
			if err != nil || n != int64(len(tt.want)) || !bytes.Equal(buf.Bytes(), tt.want) {
				t.Fatalf("WriteFrame = %d, %v, %x; want %x", n, err, buf.Bytes(), tt.want)
			}
		})
	}
}

// mixedBody is a body of encoded bytes, caller bytes and file sections,
// including one large enough to fill a socket buffer. It returns the body
// and how many of its bytes come from the file.
func mixedBody(t *testing.T, f *os.File, data []byte, pos int64) (*Body, int64) {
	t.Helper()
	var b Body
	b.i32(1)
	b.appendFile(FileSection{File: f, Pos: pos, Len: 3000})
	b.str("between", false)
	b.appendMem(data[:500])
	b.appendFile(FileSection{File: f, Pos: pos + 10, Len: 2 << 20})
	b.appendFile(FileSection{File: f, Pos: 0, Len: 1})
	b.i64(-1)
	return &b, 3000 + 2<<20 + 1
}

// readFrame reads one whole frame (size included) from r.
func readFrame(r io.Reader) ([]byte, error) {
	var size [4]byte
	if _, err := io.ReadFull(r, size[:]); err != nil {
		return nil, err
	}
	n := int(size[0])<<24 | int(size[1])<<16 | int(size[2])<<8 | int(size[3])
	frame := make([]byte, 4+n)
	copy(frame, size[:])
	_, err := io.ReadFull(r, frame[4:])
	return frame, err
}

// writeOverTCP writes b's frame to a TCP socket, checks that the peer
// reads the bytes a plain copy writes, and returns how many bytes went by
// sendfile.
func writeOverTCP(t *testing.T, b *Body) int64 {
	t.Helper()
	var want bytes.Buffer
	if _, err := b.WriteFrame(&want, 42, true); err != nil {
		t.Fatal(err)
	}
	var sent atomic.Int64
	sendfileHook = func(n int) { sent.Add(int64(n)) }
	t.Cleanup(func() { sendfileHook = nil })

	client, server := tcpPair(t)
	got := make(chan []byte, 1)
	go func() {
		frame, err := readFrame(server)
		if err != nil {
			t.Error(err)
		}
		got <- frame
	}()
	n, err := b.WriteFrame(client, 42, true)
	if err != nil || n != int64(want.Len()) {
		t.Fatalf("WriteFrame = %d, %v; want %d bytes", n, err, want.Len())
	}
	if frame := <-got; !bytes.Equal(frame, want.Bytes()) {
		t.Fatalf("socket got %d bytes unlike the %d written by copy", len(frame), want.Len())
	}
	return sent.Load()
}

func TestWriteFrameTCPUsesSendfile(t *testing.T) {
	f, data := recordsFile(t, 3<<20)
	b, fromFile := mixedBody(t, f, data, 1000)
	sent := writeOverTCP(t, b)
	if runtime.GOOS == "linux" && sent != fromFile {
		t.Fatalf("sendfile sent %d bytes, want all %d file bytes", sent, fromFile)
	}
	if off, err := f.Seek(0, io.SeekCurrent); err != nil || off != 0 {
		t.Fatalf("file offset %d, %v: sending must not move it", off, err)
	}
}

// Many responses reading one shared *os.File at once, as fetches of one
// segment do, each get their own bytes.
func TestWriteFrameSharedFileConcurrently(t *testing.T) {
	f, data := recordsFile(t, 3<<20)
	const conns = 4
	var wg sync.WaitGroup
	for i := range conns {
		b, _ := mixedBody(t, f, data, int64(i)*100_000)
		var want bytes.Buffer
		if _, err := b.WriteFrame(&want, int32(i), false); err != nil {
			t.Fatal(err)
		}
		client, server := tcpPair(t)
		wg.Add(2)
		go func() {
			defer wg.Done()
			if _, err := b.WriteFrame(client, int32(i), false); err != nil {
				t.Error(err)
			}
		}()
		go func() {
			defer wg.Done()
			frame, err := readFrame(server)
			if err != nil || !bytes.Equal(frame, want.Bytes()) {
				t.Errorf("conn %d: got %d bytes (%v), want %d", i, len(frame), err, want.Len())
			}
		}()
	}
	wg.Wait()
}

// A file shorter than its section (truncated by retention, say) is an
// error on every path, never a frame shorter than its size.
func TestWriteFrameFileTooShort(t *testing.T) {
	f, _ := recordsFile(t, 1000)
	var b Body
	b.i32(1)
	b.appendFile(FileSection{File: f, Pos: 900, Len: 200})
	if _, err := b.WriteFrame(io.Discard, 1, false); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("copy path: err = %v, want io.ErrUnexpectedEOF", err)
	}
	client, server := tcpPair(t)
	go func() { _, _ = io.Copy(io.Discard, server) }()
	if _, err := b.WriteFrame(client, 1, false); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("socket path: err = %v, want io.ErrUnexpectedEOF", err)
	}
}

func TestWriteFrameDeadline(t *testing.T) {
	f, data := recordsFile(t, 3<<20)
	b, _ := mixedBody(t, f, data, 0)
	client, server := tcpPair(t) // nobody reads: the socket buffers fill up
	if err := client.SetWriteBuffer(8 << 10); err != nil {
		t.Fatal(err)
	}
	if err := server.SetReadBuffer(8 << 10); err != nil {
		t.Fatal(err)
	}
	if err := client.SetWriteDeadline(time.Now().Add(50 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if _, err := b.WriteFrame(client, 1, false); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("err = %v, want a deadline error", err)
	}
}

func TestBodyResetAndRewrite(t *testing.T) {
	f, data := recordsFile(t, 3<<20)
	b, _ := mixedBody(t, f, data, 0)
	var first, second bytes.Buffer
	if _, err := b.WriteFrame(&first, 1, true); err != nil {
		t.Fatal(err)
	}
	if _, err := b.WriteFrame(&second, 1, true); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first.Bytes(), second.Bytes()) {
		t.Fatal("a second WriteFrame of the same body differs")
	}
	b.Reset()
	if b.Len() != 0 || len(b.parts) != 0 || cap(b.parts) == 0 {
		t.Fatalf("after Reset: Len %d, %d parts (cap %d)", b.Len(), len(b.parts), cap(b.parts))
	}
	if p := b.parts[:1][0]; p.file.File != nil || p.mem != nil {
		t.Fatal("Reset keeps references to the caller's files or bytes")
	}
}

func TestReleasedBodyComesBackEmpty(t *testing.T) {
	b := NewBody()
	b.i32(7)
	b.appendMem([]byte("records"))
	b.Release()
	for range 3 { // whichever body the pool hands out is empty
		nb := NewBody()
		if nb.Len() != 0 || len(nb.parts) != 0 || nb.files != 0 {
			t.Fatalf("NewBody after Release: %d bytes, %d parts", nb.Len(), len(nb.parts))
		}
		defer nb.Release()
	}
}

// A response whose file sections are small goes out in one writev with the
// sections read into memory, not by sendfile; the bytes are the same.
func TestWriteFrameTCPGathersSmallSections(t *testing.T) {
	f, data := recordsFile(t, 64<<10)
	var b Body
	b.i32(1)
	b.appendFile(FileSection{File: f, Pos: 100, Len: 5000})
	b.str("between", false)
	b.appendMem(data[:500])
	b.appendFile(FileSection{File: f, Pos: 20_000, Len: 7000})
	b.i64(-1)
	if sent := writeOverTCP(t, &b); sent != 0 {
		t.Errorf("sendfile sent %d bytes of a 12,000-byte response; want it gathered", sent)
	}
}

// A section past the end of its file (truncated meanwhile) fails the
// write before anything is sent, as a short sendfile does.
func TestWriteFrameTCPGatherShortFile(t *testing.T) {
	f, _ := recordsFile(t, 4096)
	var b Body
	b.i32(1)
	b.appendFile(FileSection{File: f, Pos: 4000, Len: 1000})
	client, _ := tcpPair(t)
	if _, err := b.WriteFrame(client, 1, false); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("WriteFrame of a section past the file end = %v, want ErrUnexpectedEOF", err)
	}
}

// A frame of more vectors than one writev takes (IOV_MAX, 1024) and more
// bytes than the socket buffers hold leaves whole and in order: writes
// end part-way through a vector and resume there.
func TestWriteFrameTCPManyVectorsPartialWrites(t *testing.T) {
	var b Body
	for i := range 3000 {
		b.i32(int32(i))
		b.appendMem(bytes.Repeat([]byte{byte(i)}, 4093+i%7))
	}
	if sent := writeOverTCP(t, &b); sent != 0 {
		t.Errorf("sendfile sent %d bytes of a response without files", sent)
	}
}
