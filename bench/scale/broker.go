package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// env is what starting brokers needs.
type env struct {
	bin  string
	work string
	n    int // brokers started, for unique names
}

// broker is one `sluice serve` child. Not safe for concurrent use.
type broker struct {
	addr, ctrl string
	dataDir    string
	logPath    string
	cmd        *exec.Cmd
	exited     chan struct{}
	ready      time.Duration // exec to the first ApiVersions answer
	extra      []string      // more serve arguments for the next start
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// newBroker picks ports and a fresh data dir; start runs it.
func (e *env) newBroker() (*broker, error) {
	e.n++
	addr, err := freePort()
	if err != nil {
		return nil, err
	}
	ctrl, err := freePort()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(e.work, fmt.Sprintf("broker-%d", e.n))
	return &broker{addr: addr, ctrl: ctrl, dataDir: filepath.Join(dir, "data"), logPath: dir + ".log"}, os.MkdirAll(dir, 0o755)
}

// start execs the broker and waits for its first ApiVersions answer.
func (b *broker) start(ctx context.Context, bin string) error {
	logf, err := os.OpenFile(b.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	b.cmd = exec.Command(bin, "serve", "--log-level", "warn",
		"--set", fmt.Sprintf("listeners=PLAINTEXT://%s,CONTROLLER://%s", b.addr, b.ctrl),
		"--set", "log.dirs="+b.dataDir)
	b.cmd.Args = append(b.cmd.Args, b.extra...)
	b.cmd.Stdout, b.cmd.Stderr = logf, logf
	t0 := time.Now()
	if err := b.cmd.Start(); err != nil {
		return err
	}
	b.exited = make(chan struct{})
	go func() {
		_ = b.cmd.Wait()
		close(b.exited)
	}()
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		if err := apiVersions(b.addr); err == nil {
			b.ready = time.Since(t0)
			return nil
		}
		select {
		case <-sctx.Done():
			b.kill()
			return fmt.Errorf("broker never answered ApiVersions (log %s): %w", b.logPath, sctx.Err())
		case <-b.exited:
			return fmt.Errorf("broker exited while starting (log %s)", b.logPath)
		case <-time.After(time.Millisecond): // polling a port: no event to wait on
		}
	}
}

// kill sends SIGKILL and waits for the exit.
func (b *broker) kill() {
	if b.cmd == nil || b.cmd.Process == nil {
		return
	}
	_ = b.cmd.Process.Kill()
	<-b.exited
}

// stop shuts the broker down cleanly (SIGTERM), killing it after 30 s.
func (b *broker) stop() error { return b.stopWithin(30 * time.Second) }

// stopWithin shuts the broker down cleanly (SIGTERM), killing it after d.
func (b *broker) stopWithin(d time.Duration) error {
	if b.cmd == nil || b.cmd.Process == nil {
		return nil
	}
	select {
	case <-b.exited:
		return nil
	default:
	}
	_ = b.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-b.exited:
		return nil
	case <-time.After(d):
		b.kill()
		return fmt.Errorf("broker did not stop within %v: killed", d)
	}
}

// mem reads VmRSS or VmHWM of the broker, KiB.
func (b *broker) mem(key string) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", b.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if ok && name == key {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", key, b.cmd.Process.Pid)
}

// apiVersionsFrame is an ApiVersions v3 request, correlation id 1.
var apiVersionsFrame = func() []byte {
	req := kmsg.NewPtrApiVersionsRequest()
	req.Version = 3
	req.ClientSoftwareName, req.ClientSoftwareVersion = "sluice-scale", "1"
	return kmsg.NewRequestFormatter(kmsg.FormatterClientID("sluice-scale")).AppendRequest(nil, req, 1)
}()

// apiVersions sends one ApiVersions request on a new connection.
func apiVersions(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	return apiVersionsOn(c)
}

// apiVersionsOn sends one ApiVersions request on c and checks the answer.
func apiVersionsOn(c net.Conn) error {
	if err := c.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		return err
	}
	if _, err := c.Write(apiVersionsFrame); err != nil {
		return err
	}
	var size [4]byte
	if _, err := io.ReadFull(c, size[:]); err != nil {
		return err
	}
	body := make([]byte, binary.BigEndian.Uint32(size[:]))
	if _, err := io.ReadFull(c, body); err != nil {
		return err
	}
	if len(body) < 4 {
		return errors.New("short ApiVersions response")
	}
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.Version = 3
	if err := resp.ReadFrom(body[4:]); err != nil { // header v0 (KIP-511)
		return err
	}
	if err := c.SetDeadline(time.Time{}); err != nil {
		return err
	}
	return kerr.ErrorForCode(resp.ErrorCode)
}
