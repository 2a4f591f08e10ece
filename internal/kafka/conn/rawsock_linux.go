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

// rawIO reads or writes (one of the two, chosen at construction) a TCP
// connection with raw calls. Not safe for concurrent use.
type rawIO struct {
	rc  syscall.RawConn
	p   []byte
	n   int
	err error
	fn  func(fd uintptr) bool // read or write, bound once
}

// newRawReader reads c raw when it is a TCP connection, else returns c.
func newRawReader(c net.Conn) io.Reader {
	if x := newRawIO(c, false); x != nil {
		return x
	}
	return c
}

// newRawWriter writes c raw when it is a TCP connection, else returns c.
func newRawWriter(c net.Conn) io.Writer {
	if x := newRawIO(c, true); x != nil {
		return x
	}
	return c
}

func newRawIO(c net.Conn, write bool) *rawIO {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return nil
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return nil
	}
	x := &rawIO{rc: rc}
	x.fn = x.read
	if write {
		x.fn = x.write
	}
	return x
}

func (x *rawIO) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	x.p, x.n, x.err = p, 0, nil
	err := x.rc.Read(x.fn)
	x.p = nil
	if err != nil {
		return 0, err
	}
	return x.n, x.err
}

func (x *rawIO) Write(p []byte) (int, error) {
	x.p, x.n, x.err = p, 0, nil
	err := x.rc.Write(x.fn)
	x.p = nil
	if err == nil {
		err = x.err
	}
	return x.n, err
}

// read runs when fd may be readable; false waits for readability.
func (x *rawIO) read(fd uintptr) bool {
	for {
		n, _, e := unix.RawSyscall(unix.SYS_READ, fd, uintptr(unsafe.Pointer(&x.p[0])), uintptr(len(x.p)))
		switch e {
		case 0:
			x.n = int(n)
			if n == 0 {
				x.err = io.EOF
			}
			return true
		case unix.EINTR:
		case unix.EAGAIN:
			return false
		default:
			x.err = e
			return true
		}
	}
}

// write runs when fd may be writable; false waits for writability.
func (x *rawIO) write(fd uintptr) bool {
	for x.n < len(x.p) {
		b := x.p[x.n:]
		n, _, e := unix.RawSyscall(unix.SYS_WRITE, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
		switch e {
		case 0:
			x.n += int(n)
		case unix.EINTR:
		case unix.EAGAIN:
			return false
		default:
			x.err = e
			return true
		}
	}
	return true
}
