// Package conn runs the Kafka listeners: it accepts connections and, per
// connection, reads size-prefixed requests, decodes them with kmsg and
// hands them to the handlers in order, while a writer goroutine sends the
// replies strictly in request order as each completes. A slow reply
// (acks=all, a long-poll fetch) holds back only later replies on its own
// connection, never another connection.
//
// A malformed frame (a size over socket.request.max.bytes, a header that
// does not parse, an unknown API key, an unsupported version other than
// ApiVersions', a body that does not decode) closes only that connection,
// as Kafka does.
//
// What a listener holds is bounded as in Kafka: connections by
// max.connections, max.connections.per.ip (and its overrides) and
// max.connection.creation.rate (quota.go); requests read ahead of their
// replies by a per-connection and a broker-wide budget (budget.go),
// enforced by not reading the socket; idle connections are closed after
// connections.max.idle.ms (idle.go).
//
// Server is safe for concurrent use.
package conn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluice-io/sluice/internal/kafka/handler"
)

// Config is a listener's settings.
type Config struct {
	Name string // listener name, e.g. PLAINTEXT
	Addr string // host:port to bind
	// Listener, when set, is accepted on instead of binding Addr (a
	// CONTROLLER listener shared with raft, raft.SplitListener).
	Listener        net.Listener
	MaxRequestBytes int32 // socket.request.max.bytes
	// MaxInFlight bounds the requests read ahead of their replies on one
	// connection; 0 means DefaultMaxInFlight.
	MaxInFlight int
	// Requests bound the requests read and not yet answered (budget.go).
	Requests RequestLimits
	// IdleTimeout closes a connection that had no request in progress and
	// read nothing for this long (connections.max.idle.ms); negative
	// never does.
	IdleTimeout time.Duration
	// Connections limit the connections (quota.go); SetConnectionLimits
	// changes them.
	Connections ConnectionLimits
	// SendBuffer and ReceiveBuffer size each accepted socket's buffers
	// (socket.send.buffer.bytes, socket.receive.buffer.bytes); 0 or less
	// keeps the operating system's, which tunes them to the connection.
	SendBuffer, ReceiveBuffer int
}

// DefaultMaxInFlight is the per-connection read-ahead when Config leaves
// it 0. Clients keep a few requests in flight per connection (Kafka's
// max.in.flight.requests.per.connection is 5); the queue holding them is
// allocated per connection, so a large bound costs memory on every idle
// connection (issue 5).
const DefaultMaxInFlight = 128

// Server is one Kafka listener. Safe for concurrent use.
type Server struct {
	cfg    Config
	broker *handler.Broker
	log    *slog.Logger
	ln     net.Listener
	budget *budget
	done   chan struct{} // closed by Close

	mu     sync.Mutex
	conns  map[*connection]struct{} // guarded by mu
	closed bool                     // guarded by mu
	q      quotas                   // guarded by mu
	wg     sync.WaitGroup
}

// connection is one client connection's state shared by its reader, its
// writer and the server.
type connection struct {
	c      net.Conn
	ip     netip.Addr
	ctx    context.Context // ends when the connection does: waits give up
	cancel context.CancelFunc
	flight inFlight
	reads  atomic.Uint32 // socket reads that returned bytes (idle.go)
	// waiting is set while the reader waits for budget.
	waiting atomic.Bool

	// Guarded by Server.mu: the idle sweep's view (idle.go), and whether
	// the server is closing it.
	seenReads  uint32
	lastActive time.Time
	closing    bool
}

// kill closes the connection from the server side: its waits end and
// its goroutines return.
func (cn *connection) kill() {
	cn.cancel()
	cn.c.Close()
}

// Listen binds the listener; Serve accepts on it.
func Listen(cfg Config, b *handler.Broker, log *slog.Logger) (*Server, error) {
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	ln := cfg.Listener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", cfg.Addr); err != nil {
			return nil, err
		}
	}
	s := &Server{cfg: cfg, broker: b, log: log, ln: ln, budget: newBudget(cfg.MaxInFlight, cfg.Requests),
		done: make(chan struct{}), conns: map[*connection]struct{}{}}
	s.q.counts = map[netip.Addr]int{}
	s.q.limits = cfg.Connections
	s.q.perIP = resolveOverrides(cfg.Connections.PerIPOverrides, log)
	s.q.rate.setRate(cfg.Connections.CreationRate)
	s.q.listenerRate.setRate(cfg.Connections.ListenerCreationRate)
	return s, nil
}

// Addr is the bound address (useful with port 0).
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Serve accepts connections until Close.
func (s *Server) Serve() error {
	// Under mu, as Close: a Close that came first is not raced by an Add
	// on the WaitGroup it waits on (a node stopped during its start).
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	if s.cfg.IdleTimeout >= 0 {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.sweepIdle()
		}()
	}
	s.mu.Unlock()
	var backoff time.Duration
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ok bool
			if backoff, ok = acceptBackoff(err, backoff); ok {
				if backoff == acceptBackoffMin {
					s.log.Warn("accept failed; retrying", "err", err)
				}
				time.Sleep(backoff) // a closed listener ends the loop at the next Accept
				continue
			}
			return err
		}
		backoff = 0
		cn, err := s.admit(c)
		if errors.Is(err, net.ErrClosed) {
			return nil
		}
		if err != nil {
			s.log.Info("refused connection", "remote", c.RemoteAddr().String(), "err", err)
			continue
		}
		go func() { // admit counted it in wg
			defer s.wg.Done()
			defer s.untrack(cn)
			s.serveConn(cn)
		}()
	}
}

// admit applies the connection limits to an accepted connection: it waits
// while the creation rate or max.connections does not allow it, then
// counts it, or refuses it (closed) when its address is at its limit.
func (s *Server) admit(c net.Conn) (*connection, error) {
	s.mu.Lock()
	now := time.Now()
	wait := max(s.q.rate.take(now), s.q.listenerRate.take(now))
	s.mu.Unlock()
	if wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-s.done:
			t.Stop()
		}
	}
	ip := remoteIP(c)
	s.mu.Lock()
	defer s.mu.Unlock()
	for !s.closed && s.q.total >= s.q.limits.maxConnections() {
		changed := s.q.waitChan()
		s.mu.Unlock()
		<-changed
		s.mu.Lock()
	}
	if s.closed {
		c.Close()
		return nil, net.ErrClosed
	}
	if limit := s.q.maxFor(ip); s.q.counts[ip] >= limit {
		c.Close()
		return nil, fmt.Errorf("address already has the configured maximum of %d connections", limit)
	}
	s.q.counts[ip]++
	s.q.total++
	s.wg.Add(1) // under mu, before Close can wait
	ctx, cancel := context.WithCancel(context.Background())
	cn := &connection{c: c, ip: ip, ctx: ctx, cancel: cancel, lastActive: time.Now()}
	s.conns[cn] = struct{}{}
	return cn, nil
}

func (s *Server) untrack(cn *connection) {
	s.mu.Lock()
	delete(s.conns, cn)
	if s.q.counts[cn.ip]--; s.q.counts[cn.ip] <= 0 {
		delete(s.q.counts, cn.ip)
	}
	s.q.total--
	s.q.signal()
	s.mu.Unlock()
	cn.kill()
}

// SetConnectionLimits applies new connection limits (a dynamic change of
// max.connections, max.connections.per.ip(.overrides) or
// max.connection.creation.rate). It may resolve host names, so callers
// must not hold locks others wait on. Connections over a lowered
// max.connections are closed, least recently active first; connections
// over a lowered per-address limit stay, as in Kafka.
func (s *Server) SetConnectionLimits(l ConnectionLimits) {
	perIP := resolveOverrides(l.PerIPOverrides, s.log)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.q.limits, s.q.perIP = l, perIP
	s.q.rate.setRate(l.CreationRate)
	s.q.listenerRate.setRate(l.ListenerCreationRate)
	s.q.signal()
	s.closeExcess()
}

// Close stops accepting, closes every connection and waits for their
// goroutines.
func (s *Server) Close() error {
	s.mu.Lock()
	if !s.closed {
		close(s.done)
	}
	s.closed = true
	err := s.ln.Close()
	for cn := range s.conns {
		cn.kill()
	}
	s.q.signal()
	s.mu.Unlock()
	s.wg.Wait()
	return err
}
