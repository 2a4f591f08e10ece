package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var sluiceBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "sluice-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	sluiceBin = filepath.Join(dir, "sluice")
	build := exec.Command("go", "build", "-race", "-o", sluiceBin, "../../cmd/sluice")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build sluice:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// broker is a running sluice serve process.
type broker struct {
	t       testing.TB
	Addr    string
	DataDir string
	cmd     *exec.Cmd
	args    []string
	wrap    []string // a command line that runs sluice, e.g. prlimit ... --
	logMu   sync.Mutex
	log     strings.Builder
	exited  chan struct{}
}

// freePort returns a loopback port nobody listens on right now.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startBroker starts sluice serve with extra key=value settings, waits
// until it accepts Kafka connections, and stops it when the test ends.
func startBroker(t testing.TB, settings ...string) *broker {
	t.Helper()
	return startBrokerUnder(t, nil, settings...)
}

// startBrokerUnder is startBroker with sluice run by the command line
// wrap (each start and restart).
func startBrokerUnder(t testing.TB, wrap []string, settings ...string) *broker {
	t.Helper()
	b := &broker{t: t, DataDir: t.TempDir(), wrap: wrap}
	port := freePort(t)
	b.Addr = fmt.Sprintf("127.0.0.1:%d", port)
	b.args = []string{"serve",
		"--set", fmt.Sprintf("listeners=PLAINTEXT://127.0.0.1:%d,CONTROLLER://127.0.0.1:%d", port, freePort(t)),
		"--set", "log.dirs=" + b.DataDir}
	for _, s := range settings {
		b.args = append(b.args, "--set", s)
	}
	b.start()
	t.Cleanup(b.stop)
	return b
}

func (b *broker) start() {
	b.t.Helper()
	name, args := sluiceBin, b.args
	if len(b.wrap) > 0 {
		name, args = b.wrap[0], append(append(slices.Clone(b.wrap[1:]), sluiceBin), b.args...)
	}
	b.cmd = exec.Command(name, args...)
	out, err := b.cmd.StdoutPipe()
	if err != nil {
		b.t.Fatal(err)
	}
	b.cmd.Stderr = b.cmd.Stdout
	if err := b.cmd.Start(); err != nil {
		b.t.Fatalf("start sluice: %v", err)
	}
	b.exited = make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			b.logMu.Lock()
			b.log.WriteString(sc.Text() + "\n")
			b.logMu.Unlock()
		}
		b.cmd.Wait()
		close(b.exited)
	}()
	b.waitReady()
}

// waitReady waits until the Kafka port accepts connections.
func (b *broker) waitReady() {
	b.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-b.exited:
			b.t.Fatalf("sluice exited during start:\n%s", b.Log())
		default:
		}
		c, err := net.DialTimeout("tcp", b.Addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond) // polling a port: no event to wait on
	}
	b.t.Fatalf("sluice did not accept connections on %s:\n%s", b.Addr, b.Log())
}

// Log returns what the broker printed so far.
func (b *broker) Log() string {
	b.logMu.Lock()
	defer b.logMu.Unlock()
	return b.log.String()
}

// stop sends SIGTERM and waits for a clean exit.
func (b *broker) stop() {
	if b.cmd == nil || b.cmd.Process == nil {
		return
	}
	select {
	case <-b.exited:
		return
	default:
	}
	b.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-b.exited:
	case <-time.After(15 * time.Second):
		b.cmd.Process.Kill()
		<-b.exited
		b.t.Errorf("sluice did not stop on SIGTERM within 15s:\n%s", b.Log())
	}
}

// kill9 kills the broker without warning.
func (b *broker) kill9() {
	b.cmd.Process.Kill()
	<-b.exited
}

// restart starts the broker again over the same data dir and port.
func (b *broker) restart() {
	b.start()
}

// run runs a command with a timeout and returns its stdout; it fails the
// test with stderr on a non-zero exit.
func run(t testing.TB, timeout time.Duration, stdin io.Reader, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin = stdin
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\nstderr:\n%s\nstdout:\n%s", name, strings.Join(args, " "), err, stderr.String(), out)
	}
	return string(out)
}
