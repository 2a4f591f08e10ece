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

// pending is a reply waiting its turn on the connection.
type pending struct {
	correlationID int32
	reply         *handler.Reply
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
	r := bufio.NewReaderSize(c, 64<<10)
	for {
		// A fresh buffer per request: handlers keep slices of it (the
		// produced batches are appended from it, responses may hold it
		// until written).
		frame, err := wire.ReadFrame(r, s.cfg.MaxRequestBytes, nil)
		if err != nil {
			return err
		}
		hdr, body, err := wire.ParseRequestHeader(frame, handler.Flexible)
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
		if reply != nil {
			queue <- pending{correlationID: hdr.CorrelationID, reply: reply}
		}
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

// writeLoop writes replies in request order, batching those already done
// into one write.
func (s *Server) writeLoop(ctx context.Context, c net.Conn, queue <-chan pending) {
	w := bufio.NewWriterSize(c, 64<<10)
	var buf []byte
loop:
	for p := range queue {
		select {
		case <-p.reply.Done():
		default: // not ready: send what is buffered before waiting
			if err := w.Flush(); err != nil {
				c.Close()
				break loop
			}
			select {
			case <-p.reply.Done():
			case <-ctx.Done():
				break loop
			}
		}
		if body, flexible := p.reply.Body(); body != nil {
			// Bytes and file sections: flush what is buffered, then
			// write straight to the socket (sendfile for the files).
			if err := w.Flush(); err != nil {
				c.Close()
				break
			}
			if _, err := body.WriteFrame(c, p.correlationID, flexible); err != nil {
				c.Close() // the frame on the wire may be torn
				break
			}
			continue
		}
		buf = wire.AppendResponse(buf[:0], p.correlationID, p.reply.Msg())
		if _, err := w.Write(buf); err != nil {
			c.Close()
			break
		}
		if len(queue) == 0 {
			if err := w.Flush(); err != nil {
				c.Close()
				break
			}
		}
	}
	for range queue { // drain so the reader never blocks
	}
}
