package conn

import (
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestSocketBuffers: socket.send.buffer.bytes and
// socket.receive.buffer.bytes size each accepted socket (Linux reports
// twice the size set); -1 leaves the kernel's own sizing.
func TestSocketBuffers(t *testing.T) {
	for _, tc := range []struct {
		name       string
		send, recv int
	}{{"set", 65536, 32768}, {"kernel's", -1, -1}} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Listen(Config{Name: "PLAINTEXT", Addr: "127.0.0.1:0", MaxRequestBytes: 1 << 20,
				SendBuffer: tc.send, ReceiveBuffer: tc.recv, Connections: NoConnectionLimits()}, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				t.Fatal(err)
			}
			go s.Serve()
			defer s.Close()
			c, err := net.Dial("tcp", s.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			// The sizes are set as the connection starts being served:
			// wait for them (for -1, for the connection).
			done := func(snd, rcv int) bool {
				if tc.send > 0 {
					return snd == 2*tc.send && rcv == 2*tc.recv
				}
				return snd > 0
			}
			var snd, rcv int
			for deadline := time.Now().Add(10 * time.Second); !done(snd, rcv); time.Sleep(time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("SO_SNDBUF %d, SO_RCVBUF %d; want %d, %d (0: no connection)", snd, rcv, 2*tc.send, 2*tc.recv)
				}
				s.mu.Lock()
				for cn := range s.conns {
					snd, rcv = sockopt(t, cn.c, unix.SO_SNDBUF), sockopt(t, cn.c, unix.SO_RCVBUF)
				}
				s.mu.Unlock()
			}
			if tc.send < 0 && snd == 2*65536 {
				t.Fatalf("SO_SNDBUF %d with -1", snd)
			}
		})
	}
}

func sockopt(t *testing.T, c net.Conn, opt int) int {
	t.Helper()
	rc, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var v int
	var serr error
	if err := rc.Control(func(fd uintptr) { v, serr = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, opt) }); err != nil || serr != nil {
		t.Fatal(err, serr)
	}
	return v
}
