package nodetest

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/node"
)

// Raw is one Kafka connection driven by hand: requests are sent and
// answers read one at a time, so a test knows which connection carries
// what (a kgo client spreads requests over several). Not safe for
// concurrent use.
type Raw struct {
	t    testing.TB
	C    net.Conn
	corr int32
}

// Dial opens a raw connection to n, closed when the test ends. Reads and
// writes give up after 30 s.
func Dial(t testing.TB, n *node.Node) *Raw {
	t.Helper()
	c, err := net.DialTimeout("tcp", n.Addr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(30 * time.Second))
	return &Raw{t: t, C: c}
}

// Send writes req at version v.
func (r *Raw) Send(req kmsg.Request, v int16) {
	r.t.Helper()
	req.SetVersion(v)
	r.corr++
	f := kmsg.NewRequestFormatter(kmsg.FormatterClientID("raw")).AppendRequest(nil, req, r.corr)
	if _, err := r.C.Write(f); err != nil {
		r.t.Fatalf("write %T: %v", req, err)
	}
}

// Read reads the answer to req, sent at version v.
func (r *Raw) Read(req kmsg.Request, v int16) kmsg.Response {
	r.t.Helper()
	body, err := r.ReadFrame()
	if err != nil {
		r.t.Fatalf("read the answer to %T: %v", req, err)
	}
	resp := req.ResponseKind()
	resp.SetVersion(v)
	body = body[4:] // correlation id
	if resp.IsFlexible() && req.Key() != 18 {
		body = body[1:] // empty header tags (ApiVersions has none)
	}
	if err := resp.ReadFrom(body); err != nil {
		r.t.Fatalf("decode %T: %v", resp, err)
	}
	return resp
}

// Request sends req at version v and reads its answer.
func (r *Raw) Request(req kmsg.Request, v int16) kmsg.Response {
	r.t.Helper()
	r.Send(req, v)
	return r.Read(req, v)
}

// ReadFrame reads one response frame (without its size).
func (r *Raw) ReadFrame() ([]byte, error) {
	var size [4]byte
	if _, err := io.ReadFull(r.C, size[:]); err != nil {
		return nil, err
	}
	b := make([]byte, binary.BigEndian.Uint32(size[:]))
	_, err := io.ReadFull(r.C, b)
	return b, err
}

// Closed reports whether the broker closed the connection within d: a
// read ends with EOF or a reset. Bytes arriving first, or d passing,
// mean it was not.
func (r *Raw) Closed(d time.Duration) bool {
	r.C.SetReadDeadline(time.Now().Add(d))
	defer r.C.SetReadDeadline(time.Now().Add(30 * time.Second))
	var b [1]byte
	_, err := r.C.Read(b[:])
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) ||
		(err != nil && !errors.Is(err, os.ErrDeadlineExceeded))
}
