package conn

import (
	"log/slog"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// exhaustedListener fails its first fails Accepts as a process out of
// descriptors does, then reports itself closed.
type exhaustedListener struct {
	calls atomic.Int32
	fails int32
	errno syscall.Errno
}

func (l *exhaustedListener) Accept() (net.Conn, error) {
	if l.calls.Add(1) <= l.fails {
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", l.errno)}
	}
	return nil, net.ErrClosed
}
func (l *exhaustedListener) Close() error   { return nil }
func (l *exhaustedListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }

// TestServeSurvivesDescriptorExhaustion: an Accept failing with EMFILE or
// ENFILE is retried after a back-off instead of ending the listener,
// which left the broker deaf for good (issue 13, defect 6).
func TestServeSurvivesDescriptorExhaustion(t *testing.T) {
	for _, errno := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE} {
		t.Run(errno.Error(), func(t *testing.T) {
			ln := &exhaustedListener{fails: 3, errno: errno}
			s := &Server{ln: ln, log: slog.New(slog.DiscardHandler), conns: map[*connection]struct{}{}, cfg: Config{IdleTimeout: -1}}
			if err := s.Serve(); err != nil {
				t.Fatalf("Serve = %v, want it to wait and accept again", err)
			}
			if n := ln.calls.Load(); n != 4 {
				t.Errorf("%d Accept calls, want 4", n)
			}
		})
	}
}

func TestAcceptBackoff(t *testing.T) {
	emfile := &net.OpError{Op: "accept", Err: os.NewSyscallError("accept4", syscall.EMFILE)}
	var d time.Duration
	var got []time.Duration
	for range 10 {
		var ok bool
		if d, ok = acceptBackoff(emfile, d); !ok {
			t.Fatal("EMFILE not retried")
		}
		got = append(got, d)
	}
	if got[0] != acceptBackoffMin || got[1] != 2*acceptBackoffMin || got[9] != acceptBackoffMax {
		t.Errorf("back-offs %v: want doubling from %v up to %v", got, acceptBackoffMin, acceptBackoffMax)
	}
	if _, ok := acceptBackoff(&net.OpError{Op: "accept", Err: os.NewSyscallError("accept4", syscall.EINVAL)}, 0); ok {
		t.Error("EINVAL retried")
	}
}
