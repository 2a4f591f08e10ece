package faults

import (
	"bufio"
	"net"
	"testing"
	"time"
)

// echoServer answers every line with itself.
func echoServer(t *testing.T) string {
	t.Helper()
	addr, _ := recordingServer(t)
	return addr
}

func roundTrip(c net.Conn, r *bufio.Reader, msg string, wait time.Duration) (string, error) {
	c.SetDeadline(time.Now().Add(wait))
	if _, err := c.Write([]byte(msg + "\n")); err != nil {
		return "", err
	}
	return r.ReadString('\n')
}

// A proxy forwards; blackholed it carries nothing (the peer times out)
// and forwards no new connection; healed, the connections that lost bytes
// are closed and new ones are forwarded again.
func TestProxyBlackholeAndHeal(t *testing.T) {
	p, err := NewProxy(echoServer(t))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	if got, err := roundTrip(c, r, "one", 5*time.Second); err != nil || got != "one\n" {
		t.Fatalf("through the proxy: %q, %v", got, err)
	}

	p.Blackhole()
	if got, err := roundTrip(c, r, "two", 300*time.Millisecond); err == nil {
		t.Fatalf("blackholed, the echo came back: %q", got)
	}
	c2, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if got, err := roundTrip(c2, bufio.NewReader(c2), "three", 300*time.Millisecond); err == nil {
		t.Fatalf("a connection made while blackholed was forwarded: %q", got)
	}

	p.Heal()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := r.ReadString('\n'); err == nil {
		t.Fatal("a connection that lost bytes stayed open after Heal")
	}
	c3, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c3.Close()
	if got, err := roundTrip(c3, bufio.NewReader(c3), "four", 5*time.Second); err != nil || got != "four\n" {
		t.Fatalf("after Heal: %q, %v", got, err)
	}
}

// recordingServer echoes every line and reports it on the channel (never
// blocking on it: lines nobody reads are dropped).
func recordingServer(t *testing.T) (string, <-chan string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	got := make(chan string, 16)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					select {
					case got <- line:
					default:
					}
					c.Write([]byte(line))
				}
			}()
		}
	}()
	return ln.Addr().String(), got
}

// A one-way cut drops the bytes of one direction only: with the target's
// answers dropped the target still receives, with the requests dropped
// it receives nothing; a connection made during the cut is cut the same
// way.
func TestProxyOneWay(t *testing.T) {
	for _, tt := range []struct {
		name     string
		d        Direction
		received bool
	}{{"answers dropped", FromTarget, true}, {"requests dropped", ToTarget, false}} {
		t.Run(tt.name, func(t *testing.T) {
			addr, got := recordingServer(t)
			p, err := NewProxy(addr)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			p.BlackholeOneWay(tt.d)
			c, err := net.Dial("tcp", p.Addr())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if echo, err := roundTrip(c, bufio.NewReader(c), "one", 300*time.Millisecond); err == nil {
				t.Fatalf("the echo came back through a one-way cut: %q", echo)
			}
			wait := 300 * time.Millisecond // bytes that must not come: nothing to wait on but time
			if tt.received {
				wait = 10 * time.Second
			}
			select {
			case line := <-got:
				if !tt.received {
					t.Fatalf("the target received %q though requests are dropped", line)
				}
			case <-time.After(wait):
				if tt.received {
					t.Fatal("the target did not receive the request; only its answers are dropped")
				}
			}
		})
	}
}
