package wirefuzz

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// broker is a running `sluice serve` child process.
type broker struct {
	t       testing.TB
	addr    string
	dataDir string
	args    []string
	cmd     *exec.Cmd
	exited  chan struct{}
	state   *os.ProcessState // set once exited is closed

	logMu sync.Mutex
	log   bytes.Buffer

	maxRSS atomic.Int64 // bytes, sampled from /proc
	curRSS atomic.Int64 // bytes, the last sample
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startBroker starts sluice on loopback ports with a temp data dir and
// the given key=value settings, and waits until it accepts connections.
func startBroker(t testing.TB, settings ...string) *broker {
	t.Helper()
	b := &broker{t: t, dataDir: t.TempDir()}
	port := freePort(t)
	b.addr = fmt.Sprintf("127.0.0.1:%d", port)
	b.args = []string{"serve",
		"--set", fmt.Sprintf("listeners=PLAINTEXT://127.0.0.1:%d,CONTROLLER://127.0.0.1:%d", port, freePort(t)),
		"--set", "log.dirs=" + b.dataDir}
	for _, s := range settings {
		b.args = append(b.args, "--set", s)
	}
	b.start()
	t.Cleanup(func() { b.stop() })
	return b
}

func (b *broker) start() {
	b.t.Helper()
	b.cmd = exec.Command(sluiceBin, b.args...)
	out, err := b.cmd.StdoutPipe()
	if err != nil {
		b.t.Fatal(err)
	}
	b.cmd.Stderr = b.cmd.Stdout
	if err := b.cmd.Start(); err != nil {
		b.t.Fatalf("start sluice: %v", err)
	}
	exited := make(chan struct{})
	b.exited = exited
	cmd := b.cmd
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			b.logMu.Lock()
			if b.log.Len() < 64<<20 { // a log that grows past this is a finding of its own
				b.log.WriteString(sc.Text() + "\n")
			}
			b.logMu.Unlock()
		}
		cmd.Wait()
		b.state = cmd.ProcessState
		close(exited)
	}()
	go b.sampleRSS(cmd.Process.Pid, exited)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			b.t.Fatalf("sluice exited during start (%v):\n%s", b.state, b.tail(4096))
		default:
		}
		if c, err := net.DialTimeout("tcp", b.addr, time.Second); err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond) // polling a port: no event to wait on
	}
	b.t.Fatalf("sluice did not accept connections on %s:\n%s", b.addr, b.tail(4096))
}

// sampleRSS records the child's largest resident set every 100 ms; the
// kernel's own high-water mark (VmHWM) is read as well, so that a peak
// between samples is not missed.
func (b *broker) sampleRSS(pid int, exited <-chan struct{}) {
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
			if err == nil && k == "VmRSS" {
				b.curRSS.Store(kb << 10)
			}
			if err == nil {
				for n := kb << 10; ; {
					old := b.maxRSS.Load()
					if n <= old || b.maxRSS.CompareAndSwap(old, n) {
						break
					}
				}
			}
		}
	}
}

// alive reports whether the process is still running.
func (b *broker) alive() bool {
	select {
	case <-b.exited:
		return false
	default:
		return true
	}
}

// stop sends SIGTERM and waits for the exit; it returns the exit error.
func (b *broker) stop() error {
	if b.cmd == nil || b.cmd.Process == nil {
		return nil
	}
	if !b.alive() {
		return exitErr(b.state)
	}
	b.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-b.exited:
	case <-time.After(30 * time.Second):
		b.cmd.Process.Kill()
		<-b.exited
		return fmt.Errorf("sluice did not stop within 30s of SIGTERM")
	}
	return exitErr(b.state)
}

func exitErr(st *os.ProcessState) error {
	if st == nil || st.Success() {
		return nil
	}
	return fmt.Errorf("sluice exited: %v", st)
}

// tail returns the last n bytes of what the broker printed.
func (b *broker) tail(n int) string {
	b.logMu.Lock()
	defer b.logMu.Unlock()
	s := b.log.String()
	if len(s) > n {
		s = s[len(s)-n:]
	}
	return s
}

// panics returns the log lines that tell of a panic, with what follows
// the first one.
func (b *broker) panics() string {
	b.logMu.Lock()
	defer b.logMu.Unlock()
	s := b.log.String()
	i := strings.Index(s, "panic")
	if i < 0 {
		return ""
	}
	end := min(len(s), i+8192)
	return s[max(0, i-512):end]
}
