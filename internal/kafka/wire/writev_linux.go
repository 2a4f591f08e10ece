package wire

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// maxIovecs is the most vectors one writev takes (Linux's IOV_MAX).
const maxIovecs = 1024

// writevState is one gathered write in flight. Its callback is bound once
// per Body, so a write allocates nothing.
//
// The writev is a raw system call made inside the socket's RawConn: a
// non-blocking socket never sleeps (EAGAIN waits for writability through
// the netpoller), and an ordinary call would wake the runtime's sysmon
// thread on an idle broker, a cost larger than a small response's write.
type writevState struct {
	vec    [][]byte // not yet written; its first slice may be partly written
	iov    []unix.Iovec
	n      int64
	err    error
	onSock func(fd uintptr) bool
}

// writev writes every byte of vec to the socket behind rc.
func (ws *writevState) writev(rc syscall.RawConn, vec [][]byte) (int64, error) {
	if ws.onSock == nil {
		ws.onSock = ws.sockWrite
	}
	ws.vec, ws.n, ws.err = vec, 0, nil
	err := rc.Write(ws.onSock)
	if err == nil {
		err = ws.err
	}
	clear(ws.iov)
	ws.vec = nil
	return ws.n, err
}

// sockWrite runs when the socket may be writable; false waits and calls
// again.
func (ws *writevState) sockWrite(fd uintptr) bool {
	for len(ws.vec) > 0 {
		ws.iov = ws.iov[:0]
		for _, v := range ws.vec {
			if len(ws.iov) == maxIovecs {
				break
			}
			if len(v) > 0 {
				iov := unix.Iovec{Base: &v[0]}
				iov.SetLen(len(v))
				ws.iov = append(ws.iov, iov)
			}
		}
		if len(ws.iov) == 0 {
			ws.vec = nil
			break
		}
		n, _, e := unix.RawSyscall(unix.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&ws.iov[0])), uintptr(len(ws.iov)))
		switch e {
		case 0:
		case unix.EAGAIN:
			return false
		case unix.EINTR:
			continue
		default:
			ws.err = e
			return true
		}
		ws.n += int64(n)
		ws.advance(int(n))
	}
	return true
}

// advance drops n written bytes from the front of vec.
func (ws *writevState) advance(n int) {
	for n > 0 && len(ws.vec) > 0 {
		if l := len(ws.vec[0]); l <= n {
			n -= l
			ws.vec = ws.vec[1:]
			continue
		}
		ws.vec[0] = ws.vec[0][n:]
		n = 0
	}
	for len(ws.vec) > 0 && len(ws.vec[0]) == 0 {
		ws.vec = ws.vec[1:]
	}
}
