package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// Broker kinds, in the order each round runs them.
const (
	kindSluice  = "sluice"
	kindKfake   = "kfake"
	kindCeiling = "ceiling"
)

// startTimeout bounds a broker's start; stopTimeout its clean shutdown.
const (
	startTimeout = 60 * time.Second
	stopTimeout  = 30 * time.Second
)

// brokerProc is one broker child process. Not safe for concurrent use.
type brokerProc struct {
	kind      string
	addr      string
	dir       string // data directory (removed by stop)
	logPath   string
	cmd       *exec.Cmd
	exited    chan struct{}
	coldStart time.Duration // exec to the first good ApiVersions answer
	idleRSS   int64         // KiB, after settling
}

// env is what starting a broker needs.
type env struct {
	sluiceBin string
	self      string // this program, re-executed for kfake
	workDir   string // temp dir for data dirs and logs
	kfakeSync bool
	sluiceSet []string // extra --set key=value for sluice serve
	sluiceEnv []string // extra KEY=VALUE in sluice serve's environment
	synthetic int      // ceiling: serve fetches from a canned batch of values this size
}

// freePort returns a loopback port nobody listens on right now.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// startBroker starts a fresh broker of kind with an empty data dir and
// waits until it answers ApiVersions.
func startBroker(ctx context.Context, kind string, e env) (*brokerProc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(e.workDir, kind+"-")
	if err != nil {
		return nil, err
	}
	b := &brokerProc{kind: kind, addr: fmt.Sprintf("127.0.0.1:%d", port), dir: dir, logPath: dir + ".log"}
	switch kind {
	case kindSluice:
		ctrl, err := freePort()
		if err != nil {
			return nil, err
		}
		b.cmd = exec.Command(e.sluiceBin, "serve", "--log-level", "warn",
			"--set", fmt.Sprintf("listeners=PLAINTEXT://%s,CONTROLLER://127.0.0.1:%d", b.addr, ctrl),
			"--set", "log.dirs="+filepath.Join(dir, "data"))
		for _, kv := range e.sluiceSet {
			b.cmd.Args = append(b.cmd.Args, "--set", kv)
		}
		if len(e.sluiceEnv) > 0 {
			b.cmd.Env = append(os.Environ(), e.sluiceEnv...)
		}
	default:
		args := []string{"-serve-kfake", strconv.Itoa(port), "-data", filepath.Join(dir, "data")}
		if kind == kindCeiling {
			args = append(args, "-blackhole", "-synthetic", strconv.Itoa(e.synthetic))
		} else if e.kfakeSync {
			args = append(args, "-sync")
		}
		b.cmd = exec.Command(e.self, args...)
	}
	return b, b.start(ctx)
}

func (b *brokerProc) start(ctx context.Context) error {
	logf, err := os.Create(b.logPath)
	if err != nil {
		return err
	}
	defer logf.Close() // the child keeps its own descriptor
	b.cmd.Stdout, b.cmd.Stderr = logf, logf
	t0 := time.Now()
	if err := b.cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", b.kind, err)
	}
	b.exited = make(chan struct{})
	go func() {
		_ = b.cmd.Wait()
		close(b.exited)
	}()
	sctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	if err := waitAPIVersions(sctx, b.addr, b.exited); err != nil {
		b.stop()
		return fmt.Errorf("%s: %w (log: %s)", b.kind, err, b.logPath)
	}
	b.coldStart = time.Since(t0)
	settle := time.NewTimer(time.Second) // let start-up work finish before reading idle memory
	defer settle.Stop()
	select {
	case <-settle.C:
	case <-ctx.Done():
		b.stop()
		return ctx.Err()
	}
	b.idleRSS, err = memKB(b.pid(), "VmRSS")
	return err
}

func (b *brokerProc) pid() int { return b.cmd.Process.Pid }

// cpu is the broker's CPU time so far.
func (b *brokerProc) cpu() (time.Duration, error) { return cpuTime(b.pid()) }

// peakRSS is the broker's peak resident memory (VmHWM), KiB.
func (b *brokerProc) peakRSS() (int64, error) { return memKB(b.pid(), "VmHWM") }

// stop asks the broker to shut down (SIGTERM), kills it if it does not
// within stopTimeout, and removes its data. It returns an error when the
// broker had to be killed.
func (b *brokerProc) stop() error {
	var err error
	select {
	case <-b.exited:
	default:
		_ = b.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-b.exited:
		case <-time.After(stopTimeout):
			_ = b.cmd.Process.Kill()
			<-b.exited
			err = fmt.Errorf("%s did not stop within %v: killed (log: %s)", b.kind, stopTimeout, b.logPath)
		}
	}
	return errors.Join(err, os.RemoveAll(b.dir))
}
