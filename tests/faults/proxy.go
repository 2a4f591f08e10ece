package faults

import (
	"io"
	"net"
	"sync"
)

// Proxy forwards the TCP connections made to its loopback address to a
// target address, and cuts them on demand: while blackholed it keeps
// every connection open but carries no byte in either direction (a
// network that drops packets: peers notice only by timing out) and
// forwards no new connection; blackholed in one direction it drops the
// bytes going that way only (an asymmetric partition); Heal closes the
// connections that lost bytes, so no stream resumes corrupted, and
// forwards again.
//
// Safe for concurrent use.
type Proxy struct {
	ln     net.Listener
	target string

	mu     sync.Mutex
	drop   [2]bool            // per Direction; guarded by mu
	conns  map[*link]struct{} // guarded by mu
	closed bool               // guarded by mu
	wg     sync.WaitGroup
}

// Direction is one way through a proxy.
type Direction int

// The directions.
const (
	ToTarget   Direction = iota // from the connecting side to the target (requests)
	FromTarget                  // from the target back (responses)
)

// link is one proxied connection: the client's side and the target's.
type link struct {
	client, server net.Conn // server is nil for a connection accepted while blackholed
	dirty          [2]bool  // bytes were dropped, per Direction; guarded by Proxy.mu
}

// isDirty reports whether the link lost bytes either way.
func (l *link) isDirty() bool { return l.dirty[ToTarget] || l.dirty[FromTarget] }

// NewProxy listens on a free loopback port and forwards to target.
func NewProxy(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{ln: ln, target: target, conns: map[*link]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr is where clients connect.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Blackhole stops carrying bytes on every connection, old and new.
func (p *Proxy) Blackhole() {
	p.BlackholeOneWay(ToTarget)
	p.BlackholeOneWay(FromTarget)
}

// BlackholeOneWay stops carrying bytes in direction d on every
// connection, old and new; the other direction still carries them.
func (p *Proxy) BlackholeOneWay(d Direction) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.drop[d] = true
	for l := range p.conns {
		l.dirty[d] = true
	}
}

// Heal closes the connections that were blackholed and carries bytes
// again.
func (p *Proxy) Heal() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.drop = [2]bool{}
	for l := range p.conns {
		if l.isDirty() {
			l.close()
			delete(p.conns, l)
		}
	}
}

// Close stops the proxy and closes every connection.
func (p *Proxy) Close() {
	p.mu.Lock()
	p.closed = true
	p.ln.Close()
	for l := range p.conns {
		l.close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

func (l *link) close() {
	l.client.Close()
	if l.server != nil {
		l.server.Close()
	}
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.serve(c)
		}()
	}
}

func (p *Proxy) serve(c net.Conn) {
	l := &link{client: c}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		c.Close()
		return
	}
	holed := p.drop[ToTarget] && p.drop[FromTarget]
	l.dirty = p.drop
	p.conns[l] = struct{}{}
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.conns, l)
		p.mu.Unlock()
		l.close()
	}()
	if holed {
		io.Copy(io.Discard, c) // until Heal or Close closes it
		return
	}
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	p.mu.Lock()
	l.server = s
	if p.closed || l.dirty == [2]bool{true, true} {
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	go func() { p.pump(l, s, c, ToTarget); done <- struct{}{} }()
	go func() { p.pump(l, c, s, FromTarget); done <- struct{}{} }()
	<-done // one side ended: close both (the deferred close), then wait for the other pump
	l.close()
	<-done
}

// pump copies from src to dst (direction d), dropping what it reads
// while that direction is blackholed or has lost bytes.
func (p *Proxy) pump(l *link, dst, src net.Conn, d Direction) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			drop := p.drop[d] || l.dirty[d]
			p.mu.Unlock()
			if !drop {
				if _, werr := dst.Write(buf[:n]); werr != nil {
					return
				}
			}
		}
		if err != nil {
			return
		}
	}
}
