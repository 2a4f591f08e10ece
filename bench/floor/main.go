// Floor measures what the kernel alone charges, on this machine, for the
// work a broker cannot skip: the least CPU any broker that goes through
// the TCP stack and the page cache can spend (issue 5's CPU-per-GB and
// fsync budgets are read against it).
//
//	go run ./bench/floor                  # everything, about 30 s
//	go run ./bench/floor -only consume    # some measurements
//
// Measurements, each timed by getrusage of this process only (the peer on
// the other end of the socket is a child process):
//
//   - produce: a child writes -gib GiB over loopback TCP in 1 MiB writes;
//     this process reads them into a -chunk buffer and pwrites each read
//     into a file in the page cache (two kernel copies per byte: socket to
//     user, user to page cache).
//   - consume: this process writes a -gib GiB file, syncs it, and sends it
//     to a child that discards it, by sendfile in -chunk calls (no copy to
//     user space: page cache to socket).
//   - fsync: -rounds rounds of appending 5,600 bytes to each of 6 files
//     (a 20,000 records/s load over 6 partitions at ~600 produce requests
//     per second) and then making them durable by one fdatasync per file
//     in parallel (sluice.fsync.scope=file), or by one syncfs
//     (sluice.fsync.scope=filesystem); and one file with one fdatasync.
//
// Everything is loopback, under -dir (default the system temp dir, which
// should be on the file system of the broker's log.dirs), and removed
// afterwards.
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sluice-io/sluice/internal/procs"
)

type options struct {
	only   string
	gib    float64
	chunk  int
	rounds int
	dir    string
}

func main() {
	if len(os.Args) == 3 && (os.Args[1] == peerSend || os.Args[1] == peerDiscard) {
		if err := peer(os.Args[1], os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, "floor peer:", err)
			os.Exit(1)
		}
		return
	}
	o := &options{}
	flag.StringVar(&o.only, "only", "produce,consume,fsync", "measurements to run")
	flag.Float64Var(&o.gib, "gib", 1, "GiB moved by produce and consume")
	flag.IntVar(&o.chunk, "chunk", 1<<20, "bytes per read+pwrite (produce) or per sendfile (consume)")
	flag.IntVar(&o.rounds, "rounds", 2000, "fsync rounds")
	flag.StringVar(&o.dir, "dir", os.TempDir(), "directory for the files")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
}

func run(o *options) error {
	if o.gib <= 0 || o.chunk <= 0 || o.rounds <= 0 {
		return fmt.Errorf("-gib, -chunk and -rounds must be positive")
	}
	dir, err := os.MkdirTemp(o.dir, "sluice-floor-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	size := int64(o.gib * (1 << 30))
	for name := range strings.SplitSeq(o.only, ",") {
		switch strings.TrimSpace(name) {
		case "produce":
			err = floorProduce(dir, size, o.chunk)
		case "consume":
			err = floorConsume(dir, size, o.chunk)
		case "fsync":
			err = floorFsync(dir, o.rounds)
		default:
			err = fmt.Errorf("-only: unknown measurement %q (have produce, consume, fsync)", name)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func report(what string, bytes int64, wall, cpu time.Duration) {
	gb := float64(bytes) / (1 << 30)
	fmt.Printf("%-8s %.2f GiB in %v: %.2f GiB/s, %.3f core-s/GiB\n",
		what, gb, wall.Round(time.Millisecond), gb/wall.Seconds(), cpu.Seconds()/gb)
}

// Peer roles, run as `floor <role> <addr>` in a child process.
const (
	peerSend    = "peer-send"    // write size bytes (read from stdin as text) to addr
	peerDiscard = "peer-discard" // read from addr until EOF
)

func peer(role, addr string) error {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	buf := make([]byte, 1<<20)
	if role == peerDiscard {
		_, err = io.CopyBuffer(io.Discard, struct{ io.Reader }{c}, buf)
		return err
	}
	var size int64
	if _, err := fmt.Fscan(os.Stdin, &size); err != nil {
		return err
	}
	for size > 0 {
		n, err := c.Write(buf[:min(size, int64(len(buf)))])
		if err != nil {
			return err
		}
		size -= int64(n)
	}
	return nil
}

// withPeer listens on loopback, starts the child in role, and returns the
// accepted connection and a wait for the child.
func withPeer(role string, size int64) (*net.TCPConn, func() error, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	defer ln.Close()
	self, err := os.Executable()
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.Command(self, role, ln.Addr().String())
	cmd.Stdin = strings.NewReader(fmt.Sprint(size))
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	c, err := ln.Accept()
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, nil, err
	}
	return c.(*net.TCPConn), cmd.Wait, nil
}

func floorProduce(dir string, size int64, chunk int) error {
	f, err := os.CreateTemp(dir, "produce")
	if err != nil {
		return err
	}
	defer f.Close()
	c, wait, err := withPeer(peerSend, size)
	if err != nil {
		return err
	}
	buf := make([]byte, chunk)
	var off int64
	t0, c0 := time.Now(), procs.CPUTime()
	for {
		n, rerr := c.Read(buf)
		if n > 0 {
			if _, err := f.WriteAt(buf[:n], off); err != nil {
				c.Close()
				_ = wait()
				return err
			}
			off += int64(n)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			c.Close()
			_ = wait()
			return rerr
		}
	}
	wall, cpu := time.Since(t0), procs.CPUTime()-c0
	c.Close()
	if err := wait(); err != nil {
		return err
	}
	if off != size {
		return fmt.Errorf("produce: read %d bytes, want %d", off, size)
	}
	report("produce", size, wall, cpu)
	return nil
}

func floorConsume(dir string, size int64, chunk int) error {
	f, err := os.CreateTemp(dir, "consume")
	if err != nil {
		return err
	}
	defer f.Close()
	block := make([]byte, 1<<20)
	for off := int64(0); off < size; off += int64(len(block)) {
		if _, err := f.WriteAt(block[:min(int64(len(block)), size-off)], off); err != nil {
			return err
		}
	}
	if err := f.Sync(); err != nil {
		return err
	}
	c, wait, err := withPeer(peerDiscard, 0)
	if err != nil {
		return err
	}
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var off int64
	var serr error
	t0, c0 := time.Now(), procs.CPUTime()
	werr := rc.Write(func(fd uintptr) bool {
		for off < size && serr == nil {
			_, err := unix.Sendfile(int(fd), int(f.Fd()), &off, int(min(int64(chunk), size-off)))
			switch err {
			case nil, unix.EINTR:
			case unix.EAGAIN:
				return false
			default:
				serr = err
			}
		}
		return true
	})
	wall, cpu := time.Since(t0), procs.CPUTime()-c0
	c.Close()
	if err := wait(); err != nil {
		return err
	}
	if werr == nil {
		werr = serr
	}
	if werr != nil {
		return fmt.Errorf("consume: sendfile: %w", werr)
	}
	report("consume", size, wall, cpu)
	return nil
}

func floorFsync(dir string, rounds int) error {
	const files, bytes = 6, 5600
	var fs []*os.File
	defer func() {
		for _, f := range fs {
			f.Close()
		}
	}()
	for range files {
		f, err := os.CreateTemp(dir, "fsync")
		if err != nil {
			return err
		}
		fs = append(fs, f)
	}
	buf := make([]byte, bytes)
	modes := []struct {
		name string
		n    int // files written per round
		sync func([]*os.File) error
	}{
		{"6 files, fdatasync each in parallel", files, fdatasyncAll},
		{"6 files, one syncfs", files, func(fs []*os.File) error { return unix.Syncfs(int(fs[0].Fd())) }},
		{"1 file, fdatasync", 1, fdatasyncAll},
	}
	for _, m := range modes {
		var off int64
		t0, c0 := time.Now(), procs.CPUTime()
		for range rounds {
			for _, f := range fs[:m.n] {
				if _, err := f.WriteAt(buf, off); err != nil {
					return err
				}
			}
			off += bytes
			if err := m.sync(fs[:m.n]); err != nil {
				return err
			}
		}
		wall, cpu := time.Since(t0), procs.CPUTime()-c0
		fmt.Printf("fsync    %-36s %6.1f us/round wall, %6.1f us/round CPU\n", m.name+":",
			float64(wall.Microseconds())/float64(rounds), float64(cpu.Microseconds())/float64(rounds))
	}
	return nil
}

func fdatasyncAll(fs []*os.File) error {
	errs := make([]error, len(fs))
	var wg sync.WaitGroup
	for i, f := range fs[1:] {
		wg.Go(func() { errs[i+1] = unix.Fdatasync(int(f.Fd())) })
	}
	errs[0] = unix.Fdatasync(int(fs[0].Fd()))
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
