// Package brokerproc runs `sluice serve` as a child process for tests that
// drive the real binary (tests/e2e with third-party clients,
// tests/wirefuzz): it builds the binary once, starts it on free loopback
// ports with a temp data dir, waits until it accepts connections, keeps
// what it prints, samples its resident memory, and stops it with SIGTERM
// or kill -9.
//
// A Broker is used by one test goroutine; Log, Tail, Panics, Alive and the
// RSS figures may be read from any goroutine.
package brokerproc

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Build builds cmd/sluice (with the race detector when race) into dir and
// returns the binary's path. moduleRoot is the module's directory,
// relative to the caller's working directory ("../.." from tests/x).
func Build(moduleRoot, dir string, race bool) (string, error) {
	bin := filepath.Join(dir, "sluice")
	args := []string{"build", "-o", bin}
	if race {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, "./cmd/sluice")...)
	cmd.Dir = moduleRoot
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build sluice: %w", err)
	}
	return bin, nil
}

// FreePort returns a loopback port nobody listens on right now.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// maxLog bounds what is kept of the broker's output: a log that grows past
// it is a finding of its own.
const maxLog = 64 << 20

// Options say how to run the broker.
type Options struct {
	// Settings are key=value overrides (--set).
	Settings []string
	// Wrap is a command line that runs sluice, e.g. prlimit ... --.
	Wrap []string
	// StartTimeout bounds the wait for the Kafka port; 0 is 30 s.
	StartTimeout time.Duration
	// FollowController, when set, starts a broker that is not a voter
	// (process.roles=broker, node.id NodeID) following the controller of
	// that broker (node 1, the default voter).
	FollowController *Broker
	NodeID           int
}

// Broker is a `sluice serve` child process.
type Broker struct {
	Addr           string // the Kafka listener, 127.0.0.1:port
	ControllerAddr string // the CONTROLLER listener, "" for a broker that is not a voter
	DataDir        string

	t    testing.TB
	bin  string
	args []string
	o    Options

	cmd         *exec.Cmd
	exited      chan struct{}
	readyBefore int              // readyLine's count in the log before the last launch
	state       *os.ProcessState // set once exited is closed

	logMu sync.Mutex
	log   strings.Builder

	maxRSS, curRSS atomic.Int64 // bytes, sampled from /proc
}

// Start starts bin with a temp data dir on free loopback ports and waits
// until it accepts connections. The broker is stopped when the test ends.
func Start(t testing.TB, bin string, o Options) *Broker {
	t.Helper()
	b := &Broker{t: t, bin: bin, o: o, DataDir: t.TempDir()}
	port := FreePort(t)
	b.Addr = fmt.Sprintf("127.0.0.1:%d", port)
	if c := o.FollowController; c != nil {
		b.args = []string{"serve",
			"--set", fmt.Sprintf("listeners=PLAINTEXT://127.0.0.1:%d", port),
			"--set", "process.roles=broker",
			"--set", fmt.Sprintf("node.id=%d", o.NodeID),
			"--set", "controller.quorum.voters=1@" + c.ControllerAddr,
			"--set", "log.dirs=" + b.DataDir}
	} else {
		b.ControllerAddr = fmt.Sprintf("127.0.0.1:%d", FreePort(t))
		b.args = []string{"serve",
			"--set", fmt.Sprintf("listeners=PLAINTEXT://127.0.0.1:%d,CONTROLLER://%s", port, b.ControllerAddr),
			"--set", "log.dirs=" + b.DataDir}
	}
	for _, s := range o.Settings {
		b.args = append(b.args, "--set", s)
	}
	b.Restart()
	b.stopAtCleanup()
	return b
}

func (b *Broker) stopAtCleanup() {
	b.t.Cleanup(func() {
		if err := b.Stop(); err != nil {
			// The whole log (with the goroutine dump) goes to a file.
			path := filepath.Join(os.TempDir(), fmt.Sprintf("sluice-stuck-%d.log", b.Pid()))
			if werr := os.WriteFile(path, []byte(b.Log()), 0o644); werr != nil {
				path = werr.Error()
			}
			b.t.Errorf("%v (whole log: %s):\n%s", err, path, b.Tail(8192))
		} else if b.t.Failed() {
			b.t.Logf("the broker's log ends:\n%s", b.Tail(4096))
		}
		// A race-built broker reports a data race on its output and
		// carries on: the test must not pass over it.
		if r := b.Races(); r != "" {
			b.t.Errorf("the broker at %s reported a data race:\n%s", b.Addr, r)
		}
	})
}

// Restart starts the broker (again, after Stop or Kill9) over the same
// data dir and ports, and waits until it accepts connections.
func (b *Broker) Restart() {
	b.t.Helper()
	b.launch()
	b.waitReady()
}

// launch starts the process without waiting for it to serve.
func (b *Broker) launch() {
	b.t.Helper()
	b.readyBefore = strings.Count(b.Log(), readyLine)
	name, args := b.bin, b.args
	if len(b.o.Wrap) > 0 {
		name, args = b.o.Wrap[0], append(append(slices.Clone(b.o.Wrap[1:]), b.bin), b.args...)
	}
	cmd := exec.Command(name, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		b.t.Fatalf("start sluice: %v", err)
	}
	exited := make(chan struct{})
	b.cmd, b.exited, b.state = cmd, exited, nil
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			b.logMu.Lock()
			if b.log.Len() < maxLog {
				b.log.WriteString(sc.Text() + "\n")
			}
			b.logMu.Unlock()
		}
		if err := sc.Err(); err != nil {
			// A line longer than the buffer: keep draining, or the broker
			// would block on its next log write and hang.
			b.logMu.Lock()
			fmt.Fprintf(&b.log, "brokerproc: the rest of this run's output is dropped: %v\n", err)
			b.logMu.Unlock()
			io.Copy(io.Discard, out)
		}
		cmd.Wait()
		b.state = cmd.ProcessState
		close(exited)
	}()
	go b.sampleRSS(cmd.Process.Pid, exited)
}

// readyLine is what sluice serve logs once it serves.
const readyLine = `msg="sluice ready"`

// waitReady waits until this start of the broker has logged that it is
// ready and its Kafka port accepts connections. The log line matters: the
// port, free when chosen, may have been taken meanwhile by another test's
// broker, which would accept in its place.
func (b *Broker) waitReady() {
	b.t.Helper()
	timeout := b.o.StartTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); {
		if !b.Alive() {
			b.t.Fatalf("sluice exited during start (%v):\n%s", b.state, b.Tail(4096))
		}
		if strings.Count(b.Log(), readyLine) > b.readyBefore {
			if c, err := net.DialTimeout("tcp", b.Addr, time.Second); err == nil {
				c.Close()
				return
			}
		}
		time.Sleep(20 * time.Millisecond) // polling a port: no event to wait on
	}
	b.t.Fatalf("sluice did not accept connections on %s:\n%s", b.Addr, b.Tail(4096))
}

// Pid is the running process's id.
func (b *Broker) Pid() int { return b.cmd.Process.Pid }

// Exited is closed when the process started last exits.
func (b *Broker) Exited() <-chan struct{} { return b.exited }

// Alive reports whether the process is still running.
func (b *Broker) Alive() bool {
	select {
	case <-b.exited:
		return false
	default:
		return true
	}
}

// Stop sends SIGTERM and waits up to 30 s for the exit; a broker that did
// not stop is made to dump its goroutines (SIGQUIT), killed and reported. A broker already exited is left alone.
func (b *Broker) Stop() error {
	if b.cmd == nil || !b.Alive() {
		return nil
	}
	b.cmd.Process.Signal(syscall.SIGTERM)
	b.cmd.Process.Signal(syscall.SIGCONT) // a paused broker must run to stop
	select {
	case <-b.exited:
		return nil
	case <-time.After(30 * time.Second):
		// SIGQUIT makes the Go runtime print every goroutine's stack
		// into the log before it exits: where the stop hangs.
		b.cmd.Process.Signal(syscall.SIGQUIT)
		select {
		case <-b.exited:
		case <-time.After(5 * time.Second):
			b.cmd.Process.Kill()
			<-b.exited
		}
		return fmt.Errorf("sluice did not stop within 30 s of SIGTERM (goroutines dumped by SIGQUIT in its log)")
	}
}

// Kill9 kills the broker without warning and waits for its exit.
func (b *Broker) Kill9() {
	b.cmd.Process.Kill()
	<-b.exited
}

// ExitErr is the last exit's failure (a signal or a non-zero status), or
// nil for a clean exit or a broker still running.
func (b *Broker) ExitErr() error {
	if b.Alive() || b.state == nil || b.state.Success() {
		return nil
	}
	return fmt.Errorf("sluice exited: %v", b.state)
}

// Log returns what the broker printed so far.
func (b *Broker) Log() string {
	b.logMu.Lock()
	defer b.logMu.Unlock()
	return b.log.String()
}

// Tail returns the last n bytes of what the broker printed.
func (b *Broker) Tail(n int) string {
	s := b.Log()
	return s[max(0, len(s)-n):]
}

// Races returns the first data race report in the log, or "".
func (b *Broker) Races() string {
	s := b.Log()
	i := strings.Index(s, "WARNING: DATA RACE")
	if i < 0 {
		return ""
	}
	return s[i:min(len(s), i+8192)]
}

// Panics returns the log around the first line that tells of a panic, or
// "".
func (b *Broker) Panics() string {
	s := b.Log()
	i := strings.Index(s, "panic")
	if i < 0 {
		return ""
	}
	return s[max(0, i-512):min(len(s), i+8192)]
}

// MaxRSS is the largest resident set seen, in bytes; CurRSS the last.
func (b *Broker) MaxRSS() int64 { return b.maxRSS.Load() }

// CurRSS is the resident set at the last sample, in bytes.
func (b *Broker) CurRSS() int64 { return b.curRSS.Load() }

// sampleRSS records the child's resident set every 100 ms; the kernel's
// own high-water mark (VmHWM) is read too, so a peak between samples is
// not missed.
func (b *Broker) sampleRSS(pid int, exited <-chan struct{}) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-exited:
			return
		case <-tick.C:
		}
		st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(st), "\n") {
			k, v, ok := strings.Cut(line, ":")
			if !ok || (k != "VmRSS" && k != "VmHWM") {
				continue
			}
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				continue
			}
			if k == "VmRSS" {
				b.curRSS.Store(kb << 10)
			}
			for n := kb << 10; ; {
				old := b.maxRSS.Load()
				if n <= old || b.maxRSS.CompareAndSwap(old, n) {
					break
				}
			}
		}
	}
}
