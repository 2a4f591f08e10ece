package conn

import (
	"io"
	"net"
	"sync/atomic"

	"github.com/sluice-io/sluice/internal/kafka/wire"
)

// out gathers encoded replies and writes them to the connection. The
// writer's out lowers the connection's unwritten count as its replies
// reach the socket; the reader's (unwritten nil) writes only when that
// count is zero.
type out struct {
	c         net.Conn      // for pre-encoded bodies (writev, sendfile)
	w         io.Writer     // c, raw where it can be (rawsock_linux.go)
	buf       []byte        // encoded replies not yet written
	held      int32         // replies in buf
	unwritten *atomic.Int32 // nil for the reader
}

func newOut(c net.Conn, unwritten *atomic.Int32) *out {
	return &out{c: c, w: newRawWriter(c), unwritten: unwritten}
}

// reply appends p's response to buf or, for a pre-encoded body, flushes
// buf and writes the body to the socket.
func (o *out) reply(p pending) error {
	body, flexible := p.reply.Body()
	if body == nil {
		o.buf = wire.AppendResponse(o.buf, p.correlationID, p.reply.Msg())
		o.held++
		return nil
	}
	if err := o.flush(); err != nil {
		return err
	}
	_, err := body.WriteFrame(o.c, p.correlationID, flexible)
	body.Release() // the handler gave it away with the reply
	o.written(1)
	return err
}

// flush writes the gathered replies.
func (o *out) flush() error {
	if len(o.buf) == 0 {
		return nil
	}
	_, err := o.w.Write(o.buf)
	o.buf = o.buf[:0]
	if cap(o.buf) > maxKeptWriteBuffer {
		o.buf = nil // a rare large reply: do not keep its memory per connection
	}
	o.written(o.held)
	o.held = 0
	return err
}

func (o *out) written(n int32) {
	if o.unwritten != nil {
		o.unwritten.Add(-n)
	}
}
