package storage

import (
	"errors"
	"io"
	"os"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/sluice-io/sluice/internal/model"
)

// Chunk is a byte range of one segment file holding whole batches, as
// returned by Read. It is a plain value; the file is shared and must only
// be read with positioned reads (ReadAt, WriteTo), never Read or Seek.
//
// The file stays readable after retention or truncation removes its
// segment for file.delete.delay.ms (Kafka's rule; default one minute), so a
// caller must finish sending a Chunk within that time. Close of the Log
// closes the files at once.
type Chunk struct {
	File *os.File
	Pos  int64
	Size int64
	// FirstOffset is the base offset of the first batch; it may be below
	// the offset asked for (the batch holding it). Valid when Size > 0.
	FirstOffset model.Offset
}

// Empty reports whether the chunk holds no bytes.
func (c Chunk) Empty() bool { return c.Size == 0 }

// ReadAt reads from the chunk at off (relative to the chunk).
func (c Chunk) ReadAt(p []byte, off int64) (int, error) {
	return io.NewSectionReader(c.File, c.Pos, c.Size).ReadAt(p, off)
}

// WriteTo copies the chunk to w. When w is a socket (or any syscall.Conn)
// it uses sendfile(2) with an explicit offset, so bytes never pass through
// user space and the shared file's offset is untouched. (Go's own
// TCPConn.ReadFrom only sendfiles from the file's current offset, so
// io.Copy of an io.SectionReader would copy through a buffer instead.)
func (c Chunk) WriteTo(w io.Writer) (int64, error) {
	if c.Size == 0 {
		return 0, nil
	}
	if sc, ok := w.(syscall.Conn); ok {
		n, err, handled := c.sendfile(sc)
		if handled {
			return n, err
		}
	}
	return io.Copy(w, io.NewSectionReader(c.File, c.Pos, c.Size))
}

// sendfile streams the chunk with sendfile(2); handled is false when the
// kernel refuses the pair before any byte moved (then a copy is used).
func (c Chunk) sendfile(sc syscall.Conn) (written int64, err error, handled bool) {
	rc, err := sc.SyscallConn()
	if err != nil {
		return 0, nil, false
	}
	src := int(c.File.Fd())
	off, remain := c.Pos, c.Size
	var serr error
	err = rc.Write(func(fd uintptr) bool {
		for remain > 0 {
			n, e := unix.Sendfile(int(fd), src, &off, int(min(remain, 1<<30)))
			if n > 0 {
				remain -= int64(n)
			}
			switch {
			case errors.Is(e, unix.EAGAIN):
				return false // wait until the socket is writable
			case errors.Is(e, unix.EINTR):
				continue
			case e != nil:
				serr = e
				return true
			case n == 0:
				serr = io.ErrUnexpectedEOF // the file shrank under us
				return true
			}
		}
		return true
	})
	written = c.Size - remain
	if err == nil {
		err = serr
	}
	if written == 0 && (errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EOPNOTSUPP)) {
		return 0, nil, false
	}
	return written, err, true
}
