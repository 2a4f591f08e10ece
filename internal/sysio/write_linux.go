package sysio

import (
	"os"
	"runtime"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Raw writes are for small appends into the page cache, which take
// microseconds. One that slept in the kernel (the thread switched out of
// its own accord: dirty pages throttled, memory short, the inode locked)
// turns raw writes off for rawCooldown, since a raw call that sleeps keeps
// its scheduler slot from other goroutines; being preempted does not count.
const (
	maxRawWrite = 256 << 10
	rawCooldown = 10 * time.Second
)

var (
	rawOffUntil atomic.Int64 // monotonic ns since clockStart; raw writes wait until then
	clockStart  = time.Now()
)

// WriteAt writes b to f at off, as f.WriteAt does. A write of at most 256
// KiB is made with raw pwrite calls, without a scheduler hand-off, unless
// a recent one slept. Callers use it only where the write should not
// wait on anything but memory: not while an fsync of the same file runs.
func WriteAt(f *os.File, b []byte, off int64) (int, error) {
	if len(b) == 0 || len(b) > maxRawWrite || time.Since(clockStart).Nanoseconds() < rawOffUntil.Load() {
		return f.WriteAt(b, off)
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return f.WriteAt(b, off)
	}
	done := 0
	var errno unix.Errno
	slept := false
	runtime.LockOSThread() // the switch counts below are this thread's
	if rc.Control(func(fd uintptr) {
		before := voluntarySwitches()
		for done < len(b) {
			at := off + int64(done)
			n, _, e := unix.RawSyscall6(unix.SYS_PWRITE64, fd, uintptr(unsafe.Pointer(&b[done])), uintptr(len(b)-done), uintptr(at), 0, 0)
			switch {
			case e == unix.EINTR:
				continue
			case e != 0:
				errno = e
			case n > 0:
				done += int(n)
				continue
			}
			break
		}
		slept = voluntarySwitches() != before
	}) != nil {
		runtime.UnlockOSThread()
		return f.WriteAt(b, off) // closed: the ordinary call reports it
	}
	runtime.UnlockOSThread()
	if slept {
		rawOffUntil.Store((time.Since(clockStart) + rawCooldown).Nanoseconds())
	}
	if errno != 0 || done < len(b) {
		// An error, or no progress: finish with the ordinary call, which
		// reports what stops it.
		n, err := f.WriteAt(b[done:], off+int64(done))
		return done + n, err
	}
	return done, nil
}

// voluntarySwitches is how often the calling thread has slept.
func voluntarySwitches() int64 {
	var ru unix.Rusage
	unix.RawSyscall(unix.SYS_GETRUSAGE, unix.RUSAGE_THREAD, uintptr(unsafe.Pointer(&ru)), 0)
	return ru.Nvcsw
}
