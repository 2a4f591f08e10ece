package wire

import (
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/sluice-io/sluice/internal/sysio"
)

// The zero-copy path. Go's own *net.TCPConn.ReadFrom reaches sendfile only
// for an *os.File, bare or in an *io.LimitedReader, and sends from the
// file's current offset (net/sendfile.go, internal/poll/sendfile_unix.go:
// "Linux's sendfile ... sends from the current position of the source
// file"); an *io.SectionReader falls back to a user-space copy. A segment
// file is shared by every fetch reading it, so seeking it per response
// would need a lock held across socket I/O. Instead this calls
// sendfile(2) with an explicit offset, which reads like pread and leaves
// the file offset alone, inside the connection's RawConn.Write so the
// netpoller waits for writability and write deadlines hold.

// maxSendfileChunk is Linux's largest single transfer (MAX_RW_COUNT).
const maxSendfileChunk = 0x7ffff000

// sendfileHook, when set by a test, sees every successful sendfile call.
var sendfileHook func(n int)

// sendfileState is one file section in flight. Its callbacks are bound
// once per Body, so sending allocates nothing per section but the file's
// RawConn.
type sendfileState struct {
	out     syscall.RawConn
	in      int
	off     int64
	remain  int64
	written int64
	err     error
	onFile  func(fd uintptr)
	onSock  func(fd uintptr) bool
}

// writeZeroCopy writes the frame by writev and sendfile when w is a
// *net.TCPConn; handled is false when it is not.
func (b *Body) writeZeroCopy(w io.Writer, hdr []byte) (n int64, handled bool, err error) {
	c, ok := w.(*net.TCPConn)
	if !ok {
		return 0, false, nil
	}
	rc, err := c.SyscallConn()
	if err != nil {
		return 0, false, nil
	}
	if b.files > 0 && b.fileN <= maxGatherBytes {
		n, err := b.writeGathered(rc, hdr)
		return n, true, err
	}
	if b.files > 0 {
		// Hold partial packets while the small header writes and the
		// sendfiles alternate, as nginx's tcp_nopush does.
		_ = rc.Control(corkOn)
		defer func() { _ = rc.Control(corkOff) }()
	}
	b.vec = append(b.vec[:0], hdr)
	for i := range b.parts {
		p := &b.parts[i]
		if b.vecBytes(p) {
			continue
		}
		m, err := b.flushVec(rc)
		n += m
		if err != nil {
			return n, true, err
		}
		m, err = b.sendFile(w, rc, p.file)
		n += m
		if err != nil {
			return n, true, err
		}
	}
	m, err := b.flushVec(rc)
	return n + m, true, err
}

// maxGatherBytes is the most file bytes a response copies instead of
// sending them by sendfile. A consumer at the log end gets responses of a
// few small sections, one per partition: sending each by sendfile between
// writevs, corked, costs two syscalls per section and two setsockopts,
// while reading them (pread, from the page cache) costs one each and the
// whole frame then leaves in one writev. Large responses, a consumer
// catching up, keep sendfile.
const maxGatherBytes = 64 << 10

// vecBytes adds a byte part to b.vec; false for a file part.
func (b *Body) vecBytes(p *part) bool {
	switch p.kind {
	case partBuf:
		b.vec = append(b.vec, b.buf[p.lo:p.hi])
	case partMem:
		b.vec = append(b.vec, p.mem)
	default:
		return false
	}
	return true
}

// writeGathered reads the file sections into b.gather and writes the frame
// with one writev.
func (b *Body) writeGathered(rc syscall.RawConn, hdr []byte) (int64, error) {
	if int64(cap(b.gather)) < b.fileN {
		b.gather = make([]byte, maxGatherBytes)
	}
	g := b.gather[:0]
	b.vec = append(b.vec[:0], hdr)
	for i := range b.parts {
		p := &b.parts[i]
		if b.vecBytes(p) {
			continue
		}
		s := p.file
		dst := g[len(g) : len(g)+int(s.Len)]
		if n, err := sysio.ReadAt(s.File, dst, s.Pos); n < len(dst) {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			clear(b.vec)
			b.vec = b.vec[:0]
			return 0, fmt.Errorf("read %s at %d+%d: %w", s.File.Name(), s.Pos, s.Len, err)
		}
		g = g[:len(g)+len(dst)]
		b.vec = append(b.vec, dst)
	}
	return b.flushVec(rc)
}

func corkOn(fd uintptr)  { _ = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_CORK, 1) }
func corkOff(fd uintptr) { _ = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_CORK, 0) }

// flushVec writes the gathered byte parts with one writev (writev_linux.go).
func (b *Body) flushVec(rc syscall.RawConn) (int64, error) {
	if len(b.vec) == 0 {
		return 0, nil
	}
	n, err := b.wv.writev(rc, b.vec)
	clear(b.vec)
	b.vec = b.vec[:0]
	return n, err
}

// sendFile sends one file section by sendfile(2), falling back to a copy
// when the file system or socket refuses sendfile.
func (b *Body) sendFile(w io.Writer, out syscall.RawConn, s FileSection) (int64, error) {
	sf := &b.sf
	if sf.onFile == nil {
		sf.onFile, sf.onSock = sf.fileControl, sf.sockWrite
	}
	sf.out, sf.off, sf.remain, sf.written, sf.err = out, s.Pos, s.Len, 0, nil
	src, err := s.File.SyscallConn()
	if err == nil {
		err = src.Control(sf.onFile)
	}
	if err == nil {
		err = sf.err
	}
	n := sf.written
	sf.out = nil
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EOPNOTSUPP) {
		m, cerr := b.copyFile(w, FileSection{File: s.File, Pos: s.Pos + n, Len: s.Len - n})
		return n + m, cerr
	}
	if err != nil {
		return n, fmt.Errorf("sendfile %s at %d+%d: %w", s.File.Name(), s.Pos, s.Len, err)
	}
	return n, nil
}

// fileControl runs with the source file's descriptor held open.
func (sf *sendfileState) fileControl(fd uintptr) {
	sf.in = int(fd)
	if err := sf.out.Write(sf.onSock); err != nil && sf.err == nil {
		sf.err = err
	}
}

// sockWrite runs when the socket may be writable; returning false waits
// for writability and calls again.
func (sf *sendfileState) sockWrite(fd uintptr) bool {
	for sf.remain > 0 {
		n, err := unix.Sendfile(int(fd), sf.in, &sf.off, int(min(sf.remain, maxSendfileChunk)))
		if n > 0 {
			sf.remain -= int64(n)
			sf.written += int64(n)
			if sendfileHook != nil {
				sendfileHook(n)
			}
		}
		switch err {
		case nil:
			if n == 0 { // the file ends before the section does
				sf.err = io.ErrUnexpectedEOF
				return true
			}
		case unix.EINTR:
		case unix.EAGAIN:
			return false
		default:
			sf.err = err
			return true
		}
	}
	return true
}
