package conn

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/kafka/handler"
	"github.com/sluice-io/sluice/internal/kafka/prescan"
	"github.com/sluice-io/sluice/internal/kafka/wire"
)

// Buffer sizes of a connection. The reader's buffer only gathers small
// requests (a large frame is read straight into its own buffer); the
// writer gathers ready replies up to writeBatchBytes per write and keeps
// at most maxKeptWriteBuffer between writes, so an idle connection holds
// little memory.
const (
	readBufferSize     = 4 << 10
	writeBatchBytes    = 64 << 10
	maxKeptWriteBuffer = 256 << 10
)

// flexibleHeader reports whether a request uses header v2, from a table
// built once (handler.Flexible builds a request value per call).
func flexibleHeader(key, version int16) bool {
	if key < 0 || int(key) >= len(flexibleTable) || version < 0 || int(version) >= len(flexibleTable[key]) {
		return handler.Flexible(key, version)
	}
	return flexibleTable[key][version]
}

var flexibleTable = func() (t [128][32]bool) {
	for k := range t {
		for v := range t[k] {
			t[k][v] = handler.Flexible(int16(k), int16(v))
		}
	}
	return t
}()

// pending is a reply waiting its turn on the connection.
type pending struct {
	correlationID int32
	reply         *handler.Reply
	frame         *frame // the request's bytes, released once the reply is written
	ticket        ticket // the request's room in the budget, returned then too
}

// serveConn runs one connection: this goroutine reads and dispatches, a
// writer goroutine answers in order.
//
// A reply that is ready at once while nothing is queued before it is
// written by the reader itself: handing it to the writer would wake a
// parked goroutine (and often an OS thread) per request. unwritten counts
// replies handed to the writer and not yet on the socket; the reader
// writes only when it is zero, so the socket has one writer at a time and
// replies keep their order.
func (s *Server) serveConn(cn *connection) {
	c := cn.c
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
		if s.cfg.SendBuffer > 0 {
			tc.SetWriteBuffer(s.cfg.SendBuffer)
		}
		if s.cfg.ReceiveBuffer > 0 {
			tc.SetReadBuffer(s.cfg.ReceiveBuffer)
		}
	}
	info := &handler.ConnInfo{Remote: c.RemoteAddr().String(), Listener: s.cfg.Name}
	queue := make(chan pending, s.cfg.MaxInFlight)
	var unwritten atomic.Int32
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		s.writeLoop(cn, queue, &unwritten)
		drain(queue)
	}()
	defer s.budget.releaseAll(&cn.flight) // what is never answered
	err := s.readLoop(cn, info, queue, &unwritten)
	if errors.Is(err, errCloseAfterReplies) {
		close(queue) // the writer answers what was read before, then stops
		<-writerDone
		cn.cancel()
		return // untrack closes the socket
	}
	cn.cancel() // the client is gone or broke the protocol: stop waiting for it
	close(queue)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !errors.Is(err, context.Canceled) {
		s.log.Info("closing connection", "remote", info.Remote, "err", err)
		c.Close() // a protocol error: drop what is queued
	}
	<-writerDone
}

// errCloseAfterReplies ends a connection whose handler asked for it
// (handler.CloseConnection): the replies before are written, then the
// connection closes.
var errCloseAfterReplies = errors.New("connection closed by its handler")

func (s *Server) readLoop(cn *connection, info *handler.ConnInfo, queue chan<- pending, unwritten *atomic.Int32) error {
	c := cn.c
	r := bufio.NewReaderSize(activityReader{newRawReader(c), &cn.reads}, readBufferSize)
	var hdr wire.RequestHeader // reused: its client id string survives requests
	o := newOut(c, nil)        // replies the reader writes itself
	for {
		n, key, err := readSize(r, s.cfg.MaxRequestBytes)
		if err != nil {
			return err
		}
		t, ok := s.budget.tryAdmit(&cn.flight, int64(n))
		if !ok { // backpressure: stop reading until replies are written
			cn.waiting.Store(true)
			t, err = s.budget.admit(cn.ctx, &cn.flight, int64(n))
			cn.waiting.Store(false)
			if err != nil {
				return err
			}
		}
		// Handlers may keep slices of the frame until their reply is
		// written (frames.go says which frames are then recycled).
		f, err := readBody(r, key, n)
		if err != nil {
			return err
		}
		body, err := wire.ParseRequestHeaderInto(&hdr, f.b, flexibleHeader)
		if err != nil {
			return err
		}
		req, reply, err := decodeAt(s.broker.Settings.Endpoint, hdr, body)
		if err != nil {
			return err
		}
		if reply == nil {
			reply = s.broker.Handle(&handler.Request{Ctx: cn.ctx, Header: hdr, Msg: req, Conn: info})
		}
		if reply == nil {
			f.release() // no reply (acks=0): the handler is done with it
			s.budget.release(&cn.flight, t)
			continue
		}
		if reply.ClosesConnection() {
			f.release()
			s.budget.release(&cn.flight, t)
			return errCloseAfterReplies
		}
		p := pending{correlationID: hdr.CorrelationID, reply: reply, frame: f, ticket: t}
		if unwritten.Load() == 0 && ready(reply) {
			if err := o.reply(p); err != nil {
				return err
			}
			if err := o.flush(); err != nil {
				return err
			}
			f.release()
			s.budget.release(&cn.flight, t)
			continue
		}
		unwritten.Add(1)
		queue <- p
	}
}

// activityReader counts the reads that returned bytes, which the idle
// sweep watches (idle.go).
type activityReader struct {
	r     io.Reader
	reads *atomic.Uint32
}

func (a activityReader) Read(p []byte) (int, error) {
	n, err := a.r.Read(p)
	if n > 0 {
		a.reads.Add(1)
	}
	return n, err
}

func ready(r *handler.Reply) bool {
	select {
	case <-r.Done():
		return true
	default:
		return false
	}
}

// decode turns a request body into its kmsg type. An ApiVersions request at
// a version we do not serve is answered directly (KIP-511); any other
// unknown key or version is an error that closes the connection.
func decode(hdr wire.RequestHeader, body []byte) (kmsg.Request, *handler.Reply, error) {
	return decodeAt(handler.ClientEndpoint, hdr, body)
}

// decodeAt is decode for the APIs listener ep serves.
func decodeAt(ep handler.Endpoint, hdr wire.RequestHeader, body []byte) (kmsg.Request, *handler.Reply, error) {
	if !handler.SupportedAt(ep, hdr.APIKey, hdr.APIVersion) {
		if hdr.APIKey == 18 && hdr.APIVersion >= 0 {
			return nil, handler.Now(handler.UnsupportedAPIVersions(ep)), nil
		}
		return nil, nil, fmt.Errorf("%w: api key %d version %d is not served", wire.ErrMalformed, hdr.APIKey, hdr.APIVersion)
	}
	if err := prescan.Check(hdr.APIKey, hdr.APIVersion, body); err != nil { // Kafka's decoder limits, before any allocation
		return nil, nil, fmt.Errorf("%w: %s v%d body: %v", wire.ErrMalformed, kmsg.NameForKey(hdr.APIKey), hdr.APIVersion, err)
	}
	req := kmsg.RequestForKey(hdr.APIKey)
	req.SetVersion(hdr.APIVersion)
	if err := req.ReadFrom(body); err != nil {
		return nil, nil, fmt.Errorf("%w: %s v%d body: %v", wire.ErrMalformed, kmsg.NameForKey(hdr.APIKey), hdr.APIVersion, err)
	}
	return req, nil, nil
}

// writeLoop writes replies in request order. A failed write ends the
// connection (kill), so a reader waiting for budget stops waiting too. Replies already done are
// encoded one after another into one buffer and written together; a
// pre-encoded body (Fetch) goes straight to the socket, its file sections
// by sendfile.
func (s *Server) writeLoop(cn *connection, queue <-chan pending, unwritten *atomic.Int32) {
	c := cn.c
	o := newOut(c, unwritten)
	for p := range queue {
		select {
		case <-p.reply.Done():
		default: // not ready: send what is gathered before waiting
			if err := o.flush(); err != nil {
				cn.kill()
				return
			}
			select {
			case <-p.reply.Done():
			case <-cn.ctx.Done():
				return
			}
		}
		if err := o.reply(p); err != nil {
			cn.kill() // the frame on the wire may be torn
			return
		}
		p.frame.release()
		s.budget.release(&cn.flight, p.ticket)
		if len(queue) == 0 || len(o.buf) >= writeBatchBytes {
			if err := o.flush(); err != nil {
				cn.kill()
				return
			}
		}
	}
}

// drain empties the queue after the writer stopped, so the reader never
// blocks; frames of replies still running stay with their handlers. The
// budget of what was never answered is returned once the reader stopped
// too (serveConn).
func drain(queue <-chan pending) {
	for p := range queue {
		select {
		case <-p.reply.Done():
			p.frame.release()
		default:
		}
	}
}
