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
// Requests read ahead of their replies are bounded by a per-connection
// and a broker-wide budget (budget.go), enforced by not reading the
// socket.
//
// Server is safe for concurrent use.
package conn

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"

	"github.com/sluice-io/sluice/internal/kafka/handler"
)

// Config is a listener's settings.
type Config struct {
	Name            string // listener name, e.g. PLAINTEXT
	Addr            string // host:port to bind
	MaxRequestBytes int32  // socket.request.max.bytes
	// MaxInFlight bounds the requests read ahead of their replies on one
	// connection; 0 means DefaultMaxInFlight.
	MaxInFlight int
	// Requests bound the requests read and not yet answered (budget.go).
	Requests RequestLimits
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

	mu     sync.Mutex
	conns  map[*connection]struct{} // guarded by mu
	closed bool                     // guarded by mu
	wg     sync.WaitGroup
}

// connection is one client connection's state shared by its reader, its
// writer and the server.
type connection struct {
	c      net.Conn
	ctx    context.Context // ends when the connection does: waits give up
	cancel context.CancelFunc
	flight inFlight
	// waiting is set while the reader waits for budget.
	waiting atomic.Bool
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
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, err
	}
	return &Server{cfg: cfg, broker: b, log: log, ln: ln, budget: newBudget(cfg.MaxInFlight, cfg.Requests),
		conns: map[*connection]struct{}{}}, nil
}

// Addr is the bound address (useful with port 0).
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Serve accepts connections until Close.
func (s *Server) Serve() error {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		cn, ok := s.track(c)
		if !ok {
			c.Close()
			return nil
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer s.untrack(cn)
			s.serveConn(cn)
		}()
	}
}

func (s *Server) track(c net.Conn) (*connection, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, false
	}
	ctx, cancel := context.WithCancel(context.Background())
	cn := &connection{c: c, ctx: ctx, cancel: cancel}
	s.conns[cn] = struct{}{}
	return cn, true
}

func (s *Server) untrack(cn *connection) {
	s.mu.Lock()
	delete(s.conns, cn)
	s.mu.Unlock()
	cn.kill()
}

// Close stops accepting, closes every connection and waits for their
// goroutines.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	err := s.ln.Close()
	for cn := range s.conns {
		cn.kill()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}
