package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sync"
)

// Errors of response bodies that hold records by reference.
var (
	// ErrUnsupportedVersion: a response was asked for at a version this
	// encoder does not write.
	ErrUnsupportedVersion = errors.New("unsupported response version")
	// ErrRecords: a partition's records are described inconsistently
	// (both a file section and bytes, a negative range, no file, or more
	// than an int32 length can say).
	ErrRecords = errors.New("invalid records")
	// ErrResponseTooLarge: the frame would exceed the int32 size field.
	ErrResponseTooLarge = errors.New("response frame too large")
)

// FileSection is a byte range of a file that goes into a response as is:
// Len bytes starting at Pos. The caller keeps File open until the body
// holding the section has been written; nothing here moves the file's
// offset, so one *os.File may back many sections and many concurrent
// responses.
type FileSection struct {
	File *os.File
	Pos  int64
	Len  int64
}

type partKind uint8

const (
	partBuf  partKind = iota // Body.buf[lo:hi]
	partMem                  // bytes held by the caller
	partFile                 // a file section
)

// part is one piece of a Body, in wire order.
type part struct {
	kind   partKind
	lo, hi int
	mem    []byte
	file   FileSection
}

// Body is an encoded response body kept as a sequence of parts: bytes
// encoded into an internal buffer, byte slices held by the caller, and file
// sections, in wire order. It lets a Fetch response reach the socket with
// its record bytes going from the page cache by sendfile(2), never through
// user space (DESIGN.md §4).
//
// A Body is reused: Reset (or an encoder, which resets it first) keeps its
// buffers, so a steady stream of responses allocates nothing. It holds
// references to the caller's slices and files until Reset.
//
// A Body is not safe for concurrent use, not even two concurrent
// WriteFrame calls.
type Body struct {
	buf   []byte // encoded bytes of all partBuf parts
	parts []part
	run   int   // start in buf of the bytes not yet closed into a part
	ext   int64 // bytes held outside buf (partMem and partFile)
	files int   // number of partFile parts
	fileN int64 // bytes of all partFile parts

	// Scratch for WriteFrame, kept to avoid allocations.
	hdr     [9]byte
	vec     [][]byte
	copyBuf []byte
	gather  []byte // file bytes of a small response (body_sendfile_linux.go)
	sr      io.SectionReader
	sf      sendfileState
	wv      writevState
}

// bodyPool holds released Bodies with their buffers.
var bodyPool = sync.Pool{New: func() any { return new(Body) }}

// maxPooledBuf bounds the encoded-bytes buffer a released Body keeps: a
// rare huge response (many partitions, records in memory) is not pinned.
const maxPooledBuf = 256 << 10

// NewBody returns an empty Body, reusing a released one when it can.
func NewBody() *Body { return bodyPool.Get().(*Body) }

// Release resets b and hands it back for NewBody; b must not be used
// afterwards. Bodies that were not made by NewBody may be released too.
func (b *Body) Release() {
	b.Reset()
	if cap(b.buf) > maxPooledBuf || cap(b.parts) > maxPooledBuf/16 {
		return
	}
	bodyPool.Put(b)
}

// Reset empties b, keeping its buffers, and drops its references to the
// caller's slices and files.
func (b *Body) Reset() {
	b.buf = b.buf[:0]
	clear(b.parts)
	b.parts = b.parts[:0]
	clear(b.vec)
	b.run, b.ext, b.files, b.fileN = 0, 0, 0, 0
}

// Len is the size of the body in bytes, without frame size and header.
func (b *Body) Len() int64 { return int64(len(b.buf)) + b.ext }

// closeRun turns the encoded bytes since the last part into a part.
func (b *Body) closeRun() {
	if b.run < len(b.buf) {
		b.parts = append(b.parts, part{kind: partBuf, lo: b.run, hi: len(b.buf)})
		b.run = len(b.buf)
	}
}

// appendMem adds bytes the caller keeps unchanged until b is written.
func (b *Body) appendMem(p []byte) {
	if len(p) == 0 {
		return
	}
	b.closeRun()
	b.parts = append(b.parts, part{kind: partMem, mem: p})
	b.ext += int64(len(p))
}

// appendFile adds a file section.
func (b *Body) appendFile(s FileSection) {
	if s.Len == 0 {
		return
	}
	b.closeRun()
	b.parts = append(b.parts, part{kind: partFile, file: s})
	b.ext += s.Len
	b.files++
	b.fileN += s.Len
}

// WriteFrame writes the whole response frame to w: the 4-byte size, the
// response header (correlation id, then an empty tagged-field section when
// flexibleHeader), then the body. It may be called more than once.
//
// When w is a *net.TCPConn (on Linux), byte parts go out by
// writev(2) and file sections by sendfile(2) with an explicit offset, so
// record bytes never enter user space; the socket's write deadline holds.
// Any other writer (a TLS connection, a bufio.Writer, a bytes.Buffer) gets
// plain writes and file sections copied through io.CopyBuffer: the caller
// must pass the raw connection, after flushing its own buffers, to get
// sendfile.
//
// An error after the first byte leaves a torn frame on w: the caller must
// close the connection. A file shorter than a section promised gives
// io.ErrUnexpectedEOF.
func (b *Body) WriteFrame(w io.Writer, correlationID int32, flexibleHeader bool) (int64, error) {
	b.closeRun()
	hdr, err := b.header(correlationID, flexibleHeader)
	if err != nil {
		return 0, err
	}
	if n, handled, err := b.writeZeroCopy(w, hdr); handled {
		return n, err
	}
	return b.writeCopy(w, hdr)
}

// header encodes the frame size and the response header into b.hdr.
func (b *Body) header(correlationID int32, flexible bool) ([]byte, error) {
	n := 4
	if flexible {
		n = 5
	}
	size := int64(n) + b.Len()
	if size > math.MaxInt32 {
		return nil, fmt.Errorf("%w: %d bytes", ErrResponseTooLarge, size)
	}
	binary.BigEndian.PutUint32(b.hdr[0:], uint32(size))
	binary.BigEndian.PutUint32(b.hdr[4:], uint32(correlationID))
	b.hdr[8] = 0 // empty tagged fields, sent only when flexible
	return b.hdr[:4+n], nil
}

// writeCopy writes the frame with ordinary writes: the path for writers
// that cannot take sendfile.
func (b *Body) writeCopy(w io.Writer, hdr []byte) (int64, error) {
	total, err := writeAll(w, hdr)
	if err != nil {
		return total, err
	}
	for i := range b.parts {
		p := &b.parts[i]
		var n int64
		switch p.kind {
		case partBuf:
			n, err = writeAll(w, b.buf[p.lo:p.hi])
		case partMem:
			n, err = writeAll(w, p.mem)
		case partFile:
			n, err = b.copyFile(w, p.file)
		}
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

func writeAll(w io.Writer, p []byte) (int64, error) {
	n, err := w.Write(p)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	return int64(n), err
}

// copyFile copies a file section to w through user space.
func (b *Body) copyFile(w io.Writer, s FileSection) (int64, error) {
	b.sr = *io.NewSectionReader(s.File, s.Pos, s.Len)
	if _, ok := w.(io.ReaderFrom); !ok && b.copyBuf == nil {
		b.copyBuf = make([]byte, 32<<10)
	}
	n, err := io.CopyBuffer(w, &b.sr, b.copyBuf)
	if err == nil && n < s.Len {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		return n, fmt.Errorf("copy %s at %d+%d: %w", s.File.Name(), s.Pos, s.Len, err)
	}
	return n, nil
}
