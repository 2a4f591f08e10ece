package conn

import (
	"io"
	"net"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Raw socket I/O. A connection's reads and writes call read(2) and
// write(2) with RawSyscall inside its RawConn's Read and Write: the
// netpoller still waits for readiness, and deadlines and Close still
// hold, but the calls skip the runtime's syscall bookkeeping
// (entersyscall/exitsyscall). The socket is non-blocking, so a call never
// sleeps and there is no P to hand off; while exitsyscall, on a process
// that was idle, wakes the runtime's sysmon thread, which then polls every
// 20 us for a while: at 20,000 records/s over one producer and one
// consumer connection (issue 5, workload d1) that was a futex wake and a
// few context switches per request and 8-10% of the broker's CPU.
// File I/O keeps the ordinary calls: a pwrite into the page cache can
// sleep (dirty-page throttling), and then the scheduler must run other
// goroutines meanwhile.

// rawReader reads a TCP connection with raw read(2) calls. Not safe for
// concurrent use.
type rawReader struct {
	rc  syscall.RawConn
	p   []byte
	n   int
	err error
	fn  func(fd uintptr) bool // r.read, bound once
}

// newRawReader reads c raw when it is a TCP connection, else returns c.
func newRawReader(c net.Conn) io.Reader {
	rc := rawConn(c)
	if rc == nil {
		return c
	}
	r := &rawReader{rc: rc}
	r.fn = r.read
	return r
}

func (r *rawReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	r.p, r.n, r.err = p, 0, nil
	err := r.rc.Read(r.fn)
	r.p = nil
	if err != nil {
		return 0, err
	}
	return r.n, r.err
}

// read runs when fd may be readable; false waits for readability.
func (r *rawReader) read(fd uintptr) bool {
	for {
		n, _, e := unix.RawSyscall(unix.SYS_READ, fd, uintptr(unsafe.Pointer(&r.p[0])), uintptr(len(r.p)))
		switch e {
		case 0:
			r.n = int(n)
			if n == 0 {
				r.err = io.EOF
			}
			return true
		case unix.EINTR:
		case unix.EAGAIN:
			return false
		default:
			r.err = e
			return true
		}
	}
}

// rawWriter writes a TCP connection with raw write(2) calls. Not safe for
// concurrent use.
type rawWriter struct {
	rc  syscall.RawConn
	p   []byte
	n   int
	err error
	fn  func(fd uintptr) bool // w.write, bound once
}

// newRawWriter writes c raw when it is a TCP connection, else returns c.
func newRawWriter(c net.Conn) io.Writer {
	rc := rawConn(c)
	if rc == nil {
		return c
	}
	w := &rawWriter{rc: rc}
	w.fn = w.write
	return w
}

func (w *rawWriter) Write(p []byte) (int, error) {
	w.p, w.n, w.err = p, 0, nil
	err := w.rc.Write(w.fn)
	w.p = nil
	if err == nil {
		err = w.err
	}
	return w.n, err
}

// write runs when fd may be writable; false waits for writability.
func (w *rawWriter) write(fd uintptr) bool {
	for w.n < len(w.p) {
		b := w.p[w.n:]
		n, _, e := unix.RawSyscall(unix.SYS_WRITE, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
		switch e {
		case 0:
			w.n += int(n)
		case unix.EINTR:
		case unix.EAGAIN:
			return false
		default:
			w.err = e
			return true
		}
	}
	return true
}

func rawConn(c net.Conn) syscall.RawConn {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return nil
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return nil
	}
	return rc
}
