package conn

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/kafka/handler"
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
}

// serveConn runs one connection: this goroutine reads and dispatches, a
// writer goroutine answers in order.
func (s *Server) serveConn(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	info := &handler.ConnInfo{Remote: c.RemoteAddr().String(), Listener: s.cfg.Name}
	queue := make(chan pending, s.cfg.MaxInFlight)
	ctx, cancel := context.WithCancel(context.Background())
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		s.writeLoop(ctx, c, queue)
		drain(queue)
	}()
	err := s.readLoop(ctx, c, info, queue)
	cancel() // the client is gone or broke the protocol: stop waiting for it
	close(queue)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
		s.log.Info("closing connection", "remote", info.Remote, "err", err)
		c.Close() // a protocol error: drop what is queued
	}
	<-writerDone
}

func (s *Server) readLoop(ctx context.Context, c net.Conn, info *handler.ConnInfo, queue chan<- pending) error {
	r := bufio.NewReaderSize(c, readBufferSize)
	var hdr wire.RequestHeader // reused: its client id string survives requests
	for {
		// Handlers may keep slices of the frame until their reply is
		// written (frames.go says which frames are then recycled).
		f, err := readFrame(r, s.cfg.MaxRequestBytes)
		if err != nil {
			return err
		}
		body, err := wire.ParseRequestHeaderInto(&hdr, f.b, flexibleHeader)
		if err != nil {
			return err
		}
		req, reply, err := decode(hdr, body)
		if err != nil {
			return err
		}
		if reply == nil {
			reply = s.broker.Handle(&handler.Request{Ctx: ctx, Header: hdr, Msg: req, Conn: info})
		}
		if reply == nil {
			f.release() // no reply (acks=0): the handler is done with it
			continue
		}
		queue <- pending{correlationID: hdr.CorrelationID, reply: reply, frame: f}
	}
}

// decode turns a request body into its kmsg type. An ApiVersions request at
// a version we do not serve is answered directly (KIP-511); any other
// unknown key or version is an error that closes the connection.
func decode(hdr wire.RequestHeader, body []byte) (kmsg.Request, *handler.Reply, error) {
	if !handler.Supported(hdr.APIKey, hdr.APIVersion) {
		if hdr.APIKey == 18 && hdr.APIVersion >= 0 {
			return nil, handler.Now(handler.UnsupportedAPIVersions()), nil
		}
		return nil, nil, fmt.Errorf("%w: api key %d version %d is not served", wire.ErrMalformed, hdr.APIKey, hdr.APIVersion)
	}
	req := kmsg.RequestForKey(hdr.APIKey)
	req.SetVersion(hdr.APIVersion)
	if err := req.ReadFrom(body); err != nil {
		return nil, nil, fmt.Errorf("%w: %s v%d body: %v", wire.ErrMalformed, kmsg.NameForKey(hdr.APIKey), hdr.APIVersion, err)
	}
	return req, nil, nil
}

// writeLoop writes replies in request order. Replies already done are
// encoded one after another into one buffer and written together; a
// pre-encoded body (Fetch) goes straight to the socket, its file sections
// by sendfile.
func (s *Server) writeLoop(ctx context.Context, c net.Conn, queue <-chan pending) {
	var buf []byte // encoded replies not yet written
	flush := func() error {
		if len(buf) == 0 {
			return nil
		}
		_, err := c.Write(buf)
		buf = buf[:0]
		if cap(buf) > maxKeptWriteBuffer {
			buf = nil // a rare large reply: do not keep its memory per connection
		}
		return err
	}
	for p := range queue {
		select {
		case <-p.reply.Done():
		default: // not ready: send what is gathered before waiting
			if err := flush(); err != nil {
				c.Close()
				return
			}
			select {
			case <-p.reply.Done():
			case <-ctx.Done():
				return
			}
		}
		if err := writeReply(c, &buf, p, flush); err != nil {
			c.Close() // the frame on the wire may be torn
			return
		}
		p.frame.release()
		if len(queue) == 0 || len(buf) >= writeBatchBytes {
			if err := flush(); err != nil {
				c.Close()
				return
			}
		}
	}
}

// writeReply appends p's response to buf, or for a pre-encoded body
// flushes buf and writes the body to the socket.
func writeReply(c net.Conn, buf *[]byte, p pending, flush func() error) error {
	body, flexible := p.reply.Body()
	if body == nil {
		*buf = wire.AppendResponse(*buf, p.correlationID, p.reply.Msg())
		return nil
	}
	if err := flush(); err != nil {
		return err
	}
	_, err := body.WriteFrame(c, p.correlationID, flexible)
	body.Release() // the handler gave it away with the reply
	return err
}

// drain empties the queue after the writer stopped, so the reader never
// blocks; frames of replies still running stay with their handlers.
func drain(queue <-chan pending) {
	for p := range queue {
		select {
		case <-p.reply.Done():
			p.frame.release()
		default:
		}
	}
}
