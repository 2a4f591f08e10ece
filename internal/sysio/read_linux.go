package sysio

import (
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ReadAt reads len(b) bytes of f at off, as f.ReadAt does, from the page
// cache without a scheduler hand-off when it can.
func ReadAt(f *os.File, b []byte, off int64) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return f.ReadAt(b, off)
	}
	var n uintptr
	var errno unix.Errno
	iov := unix.Iovec{Base: &b[0]}
	iov.SetLen(len(b))
	if rc.Control(func(fd uintptr) {
		n, _, errno = unix.RawSyscall6(unix.SYS_PREADV2, fd, uintptr(unsafe.Pointer(&iov)), 1,
			uintptr(off), uintptr(off>>32), unix.RWF_NOWAIT)
	}) != nil || errno != 0 || int(n) != len(b) {
		// Not cached (EAGAIN), not supported, short, or the file is
		// closed: the ordinary call gives the whole answer and error.
		return f.ReadAt(b, off)
	}
	return int(n), nil
}
