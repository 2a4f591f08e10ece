// Syncstall measures how long a small durable write (write + fdatasync, as
// an acks=all produce does) takes on this machine's file system while
// other data is being written to it, for several layouts of the file
// written durably. It is the experiment behind the choice of Sluice's
// hot-segment layout (docs/DESIGN.md, "Durable writes beside bulk
// writes").
//
//	go run ./bench/syncstall -dir /var/lib/sluice -other 2048 -duration 10s
//
// The other writer is a child process (dd from /dev/zero, page cache, no
// fsync) started with the probe (-other-mode during) or run to the end just
// before it (-other-mode before: data still dirty in the page cache when
// the probe starts, as after a bulk acks=1 produce).
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// trace is -trace.
var trace bool

func main() {
	dir := flag.String("dir", os.TempDir(), "directory on the file system to measure")
	other := flag.Int("other", 2048, "MiB the other writer writes (0: none)")
	otherMode := flag.String("other-mode", "during", "during: the other writer runs beside the probe; before: it finishes, then the probe runs; writeback: it finishes, then the probe runs while its data is written back")
	layouts := flag.String("layouts", "append,prezeroed,fallocate,direct", "layouts to measure, comma-separated")
	duration := flag.Duration("duration", 10*time.Second, "probe time per layout")
	every := flag.Duration("every", time.Millisecond, "one durable write per this interval")
	size := flag.Int("size", 20<<10, "bytes per durable write")
	otherRate := flag.Int("other-rate", 0, "paced: write back at most this many MiB/s (0: as fast as the window allows)")
	flag.BoolVar(&trace, "trace", false, "print every stall over 50 ms (and every paced step that waited that long) as it happens")
	ioprio := flag.String("ioprio", "", "I/O priority class of the probe's thread: rt, be or idle (default: inherit)")
	flag.Parse()
	if *ioprio != "" {
		runtime.LockOSThread()
		if err := setIOPrio(*ioprio); err != nil {
			fmt.Fprintf(os.Stderr, "syncstall: -ioprio: %v\n", err)
			os.Exit(1)
		}
	}
	for _, l := range strings.Split(*layouts, ",") {
		if err := measure(*dir, l, *other, *otherMode, *otherRate, *duration, *every, *size); err != nil {
			fmt.Fprintf(os.Stderr, "syncstall: %s: %v\n", l, err)
			os.Exit(1)
		}
	}
}

func measure(dir, layout string, otherMiB int, otherMode string, otherRate int, d, every time.Duration, size int) error {
	path := filepath.Join(dir, "syncstall-"+layout)
	defer os.Remove(path)
	span := int64(size) * int64(d/every+1)
	span = (span + 4095) &^ 4095
	flags := os.O_RDWR | os.O_CREATE | os.O_TRUNC
	noSync := layout == "direct-nosync" || layout == "direct-read"
	read := layout == "direct-read"
	if noSync {
		layout = "direct"
	}
	if layout == "direct" {
		flags |= unix.O_DIRECT
	}
	f, err := os.OpenFile(path, flags, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	switch layout {
	case "prezeroed", "direct":
		if err := zeroFill(path, span); err != nil {
			return err
		}
	case "fallocate":
		if err := unix.Fallocate(int(f.Fd()), 0, 0, span); err != nil {
			return err
		}
		if err := f.Sync(); err != nil {
			return err
		}
	case "append":
	default:
		return fmt.Errorf("unknown layout (have append, prezeroed, fallocate, direct)")
	}
	otherPath := filepath.Join(dir, "syncstall-other")
	defer os.Remove(otherPath)
	var dd *exec.Cmd
	var paced chan error
	if otherMiB > 0 && otherMode == "paced" {
		paced = startPaced(otherPath, otherMiB, otherRate)
	} else if otherMiB > 0 {
		dd = exec.Command("dd", "if=/dev/zero", "of="+otherPath, "bs=1M", fmt.Sprintf("count=%d", otherMiB))
		if err := dd.Start(); err != nil {
			return err
		}
		if otherMode != "during" {
			if err := dd.Wait(); err != nil {
				return err
			}
			dd = nil
		}
		if otherMode == "writeback" {
			// The kernel writes dirty data back after
			// dirty_expire_centisecs (30 s) or above
			// dirty_background_ratio: start that now.
			dd = exec.Command("sync", "-f", otherPath)
			if err := dd.Start(); err != nil {
				return err
			}
		}
	}
	buf := alignedBuf(size)
	for i := range buf {
		buf[i] = 'x'
	}
	var lat []time.Duration
	var off int64
	start := time.Now()
	next := start
	for time.Since(start) < d {
		if w := time.Until(next); w > 0 {
			time.Sleep(w)
		}
		// Latency counts from the write's scheduled time, so a stall
		// counts for every write it held up (no coordinated omission).
		t0 := next
		next = next.Add(every)
		var err error
		if read {
			_, err = f.ReadAt(buf, off)
		} else {
			_, err = f.WriteAt(buf, off)
		}
		if err != nil {
			return err
		}
		if !noSync {
			if err := unix.Fdatasync(int(f.Fd())); err != nil {
				return err
			}
		}
		lat = append(lat, time.Since(t0))
		if trace && time.Since(t0) > 50*time.Millisecond {
			fmt.Printf("  stall at %v: %v\n", t0.Sub(start).Round(time.Millisecond), time.Since(t0).Round(time.Millisecond))
		}
		off += int64(size)
		for next.Before(time.Now().Add(-every)) && time.Since(start) < d {
			lat = append(lat, 0) // placeholder, fixed below
			lat[len(lat)-1] = time.Since(next)
			next = next.Add(every)
		}
	}
	if dd != nil {
		_ = dd.Wait()
	}
	if paced != nil {
		if err := <-paced; err != nil {
			return err
		}
	}
	slices.Sort(lat)
	q := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	fmt.Printf("%-10s other %d MiB %-6s  %6d syncs  p50 %8v  p99 %8v  p99.9 %8v  max %8v\n",
		layout, otherMiB, otherMode, len(lat), q(0.5).Round(time.Microsecond), q(0.99).Round(time.Microsecond),
		q(0.999).Round(time.Microsecond), lat[len(lat)-1].Round(time.Microsecond))
	return nil
}

// zeroFill writes zeros over [0, n) of path and syncs, so every block is
// allocated and written before the probe.
func zeroFill(path string, n int64) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	zero := make([]byte, 1<<20)
	for off := int64(0); off < n; off += int64(len(zero)) {
		if _, err := f.WriteAt(zero[:min(int64(len(zero)), n-off)], off); err != nil {
			return err
		}
	}
	return f.Sync()
}

// alignedBuf is a 4096-aligned buffer for O_DIRECT, size rounded up.
func alignedBuf(size int) []byte {
	n := (size + 4095) &^ 4095
	b := make([]byte, n+4096)
	a := 4096 - int(uintptr(unsafe.Pointer(unsafe.SliceData(b)))&4095)
	return b[a : a+n]
}

// setIOPrio sets the calling thread's I/O priority class (level 0).
func setIOPrio(class string) error {
	c := map[string]uintptr{"rt": 1, "be": 2, "idle": 3}[class]
	if c == 0 {
		return fmt.Errorf("unknown class %q (have rt, be, idle)", class)
	}
	const ioprioWhoProcess, classShift = 1, 13
	if _, _, e := unix.Syscall(unix.SYS_IOPRIO_SET, ioprioWhoProcess, 0, c<<classShift); e != 0 {
		return e
	}
	return nil
}

// startPaced writes MiB to path from this process, 1 MiB per write, while
// a goroutine writes the written data back behind it with
// sync_file_range, at most pacedWindow bytes in flight; it returns at once
// once the writes are done (the writeback goes on beside the probe) and
// reports on the channel when the writeback is done too.
func startPaced(path string, mib, rate int) chan error {
	const pacedWindow = 4 << 20
	done := make(chan error, 1)
	f, err := os.Create(path)
	if err != nil {
		done <- err
		return done
	}
	buf := make([]byte, 1<<20)
	written := make(chan int64, mib)
	for i := 0; i < mib; i++ {
		if _, err := f.Write(buf); err != nil {
			done <- err
			return done
		}
		written <- int64(i+1) << 20
	}
	close(written)
	go func() {
		defer f.Close()
		fd := int(f.Fd())
		var started, waited int64
		t0 := time.Now()
		for end := range written {
			if rate > 0 {
				due := t0.Add(time.Duration(float64(started) / float64(rate<<20) * float64(time.Second)))
				time.Sleep(time.Until(due))
			}
			if end-started < pacedWindow {
				continue
			}
			// Wait for the previous chunk, then start this one.
			w0 := time.Now()
			// (A length of 0 would mean "to the end of the file".)
			if started > waited && unix.SyncFileRange(fd, waited, started-waited, unix.SYNC_FILE_RANGE_WAIT_BEFORE|unix.SYNC_FILE_RANGE_WRITE|unix.SYNC_FILE_RANGE_WAIT_AFTER) != nil {
				done <- fmt.Errorf("sync_file_range")
				return
			}
			w1 := time.Now()
			waited = started
			if err := unix.SyncFileRange(fd, started, end-started, unix.SYNC_FILE_RANGE_WRITE); err != nil {
				done <- err
				return
			}
			if trace && time.Since(w0) > 50*time.Millisecond {
				fmt.Printf("  pacer at %v MiB: wait %v, start %v\n", started>>20, w1.Sub(w0).Round(time.Millisecond), time.Since(w1).Round(time.Millisecond))
			}
			started = end
		}
		done <- unix.SyncFileRange(fd, 0, 0, unix.SYNC_FILE_RANGE_WAIT_BEFORE|unix.SYNC_FILE_RANGE_WRITE|unix.SYNC_FILE_RANGE_WAIT_AFTER)
	}()
	return done
}
