package raft

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"
)

// classifyTimeout bounds the wait for a new connection's first bytes.
const classifyTimeout = 10 * time.Second

// SplitListener shares a CONTROLLER listener between raft and Kafka: it
// accepts on ln, hands each connection that opens with Preamble to serve
// (TCPTransport.Serve) and returns the others from its own Accept, their
// first bytes intact. Closing it closes ln.
func SplitListener(ln net.Listener, serve func(net.Conn), log *slog.Logger) net.Listener {
	s := &splitListener{ln: ln, serve: serve, log: log, conns: make(chan net.Conn), done: make(chan struct{})}
	go s.acceptLoop()
	return s
}

type splitListener struct {
	ln    net.Listener
	serve func(net.Conn)
	log   *slog.Logger
	conns chan net.Conn
	done  chan struct{} // closed by Close

	once sync.Once
}

func (s *splitListener) acceptLoop() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			select {
			case <-s.done:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			s.log.Warn("controller listener: accept failed; retrying", "err", err)
			time.Sleep(50 * time.Millisecond)
			continue
		}
		go s.classify(c)
	}
}

// classify reads the first bytes of c: a raft peer goes to serve, anything
// else to Accept.
func (s *splitListener) classify(c net.Conn) {
	c.SetReadDeadline(time.Now().Add(classifyTimeout))
	head := make([]byte, 4) // a Kafka request is longer than this
	if _, err := io.ReadFull(c, head); err != nil {
		c.Close()
		return
	}
	if bytes.Equal(head, []byte(Preamble[:4])) {
		rest := make([]byte, len(Preamble)-4)
		if _, err := io.ReadFull(c, rest); err != nil || string(rest) != Preamble[4:] {
			c.Close()
			return
		}
		c.SetReadDeadline(time.Time{})
		s.serve(c)
		return
	}
	c.SetReadDeadline(time.Time{})
	select {
	case s.conns <- &prefixConn{Conn: c, prefix: head}:
	case <-s.done:
		c.Close()
	}
}

func (s *splitListener) Accept() (net.Conn, error) {
	select {
	case c := <-s.conns:
		return c, nil
	case <-s.done:
		return nil, net.ErrClosed
	}
}

// Close closes the listener; connections already handed out stay open,
// and raft connections end when the transport stops.
func (s *splitListener) Close() error {
	var err error
	s.once.Do(func() {
		close(s.done)
		err = s.ln.Close()
	})
	return err
}

func (s *splitListener) Addr() net.Addr { return s.ln.Addr() }

// prefixConn is a connection whose first bytes were read already.
type prefixConn struct {
	net.Conn
	prefix []byte
}

func (c *prefixConn) Read(p []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(p, c.prefix)
		c.prefix = c.prefix[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}
