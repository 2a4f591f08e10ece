package raft

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	etcdraft "go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// The TCP transport carries raft messages between voters over their
// CONTROLLER listeners (docs/format/raft-wire.md). Each node dials each
// peer once and streams its messages to it on that connection, one way:
// a connection opens with Preamble and the sender's id, then carries
// frames of a 4-byte big-endian length and a marshalled raftpb.Message.
// Nothing is answered: raft's own messages acknowledge.

// Preamble opens a raft connection. Read as a Kafka request its first
// four bytes are a size of about 1.4 GB, above any
// socket.request.max.bytes, so a Kafka client is never mistaken for a
// peer, nor a peer for a client.
const Preamble = "SLRAFT1\n"

// maxFrame bounds one message on the wire: an entry batch of
// MaxSizePerMsg or a snapshot of the metadata image.
const maxFrame = 256 << 20

// Dial and redial pacing of a link whose peer does not answer.
const (
	dialTimeout   = time.Second
	redialBackoff = 200 * time.Millisecond
	// writeTimeout fails a write to a peer that stopped reading (a
	// paused process): its link drops messages until it reads again.
	writeTimeout = 5 * time.Second
)

// TCPTransport is a Transport over TCP. Safe for concurrent use.
type TCPTransport struct {
	self  uint64
	addrs map[uint64]string
	log   *slog.Logger

	mu      sync.Mutex
	local   Receiver                        // guarded by mu; nil before Start
	ctx     context.Context                 // guarded by mu; done on Stop
	cancel  context.CancelFunc              // guarded by mu
	links   map[uint64]chan *raftpb.Message // guarded by mu
	inbound map[net.Conn]struct{}           // guarded by mu
	stopped bool                            // guarded by mu
	wg      sync.WaitGroup
}

// NewTCPTransport returns the transport of node self, reaching each peer
// at its Addr (its CONTROLLER listener).
func NewTCPTransport(self uint64, peers []Peer, log *slog.Logger) *TCPTransport {
	addrs := make(map[uint64]string, len(peers))
	for _, p := range peers {
		if p.ID != self {
			addrs[p.ID] = p.Addr
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &TCPTransport{self: self, addrs: addrs, log: log, ctx: ctx, cancel: cancel,
		links: map[uint64]chan *raftpb.Message{}, inbound: map[net.Conn]struct{}{}}
}

// Start implements Transport.
func (t *TCPTransport) Start(local Receiver) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.local = local
	return nil
}

// Send implements Transport: it queues each message on its peer's link.
func (t *TCPTransport) Send(msgs []*raftpb.Message) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped || t.local == nil {
		return
	}
	for _, m := range msgs {
		to := m.GetTo()
		ch, ok := t.links[to]
		if !ok {
			addr, known := t.addrs[to]
			if !known {
				t.log.Warn("raft: message for an unknown peer dropped", "to", to)
				continue
			}
			ch = make(chan *raftpb.Message, linkQueue)
			t.links[to] = ch
			t.wg.Add(1)
			go t.sendLoop(t.ctx, t.local, to, addr, ch)
		}
		select {
		case ch <- m:
		default: // congested: drop, raft retries
			t.lost(t.local, to, m)
		}
	}
}

// lost reports a message that did not leave; raft waits for the report of
// every snapshot it sends, so that one goes back off the caller's
// goroutine (Send runs on the raft loop).
func (t *TCPTransport) lost(local Receiver, to uint64, m *raftpb.Message) {
	if m.GetType() != raftpb.MsgSnap {
		return
	}
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		local.ReportSnapshot(to, etcdraft.SnapshotFailure)
	}()
}

// sendLoop writes the messages queued for peer to on one connection,
// dialling it when needed; a batch that cannot be written is lost and
// reported, and the next dial waits redialBackoff.
func (t *TCPTransport) sendLoop(ctx context.Context, local Receiver, to uint64, addr string, ch <-chan *raftpb.Message) {
	defer t.wg.Done()
	var c net.Conn
	var w *bufio.Writer
	var nextDial time.Time
	defer func() {
		if c != nil {
			c.Close()
		}
	}()
	batch := make([]*raftpb.Message, 0, 64)
	for {
		select {
		case <-ctx.Done():
			return
		case m := <-ch:
			batch = append(batch[:0], m)
		}
	more:
		for len(batch) < cap(batch) {
			select {
			case m := <-ch:
				batch = append(batch, m)
			default:
				break more
			}
		}
		if c == nil && time.Now().After(nextDial) {
			var err error
			if c, err = t.dial(ctx, addr); err != nil {
				t.log.Debug("raft: dial peer", "peer", to, "addr", addr, "err", err)
				c, nextDial = nil, time.Now().Add(redialBackoff)
			} else {
				w = bufio.NewWriterSize(c, 64<<10)
			}
		}
		if c != nil {
			c.SetWriteDeadline(time.Now().Add(writeTimeout))
		}
		if c == nil || writeFrames(w, batch) != nil {
			if c != nil {
				c.Close()
				c, nextDial = nil, time.Now().Add(redialBackoff)
			}
			local.ReportUnreachable(to)
			for _, m := range batch {
				if m.GetType() == raftpb.MsgSnap {
					local.ReportSnapshot(to, etcdraft.SnapshotFailure)
				}
			}
			continue
		}
		for _, m := range batch {
			if m.GetType() == raftpb.MsgSnap {
				local.ReportSnapshot(to, etcdraft.SnapshotFinish)
			}
		}
	}
}

// dial opens a raft connection to addr: the preamble and this node's id.
func (t *TCPTransport) dial(ctx context.Context, addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: dialTimeout}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	hdr := make([]byte, len(Preamble)+8)
	copy(hdr, Preamble)
	binary.BigEndian.PutUint64(hdr[len(Preamble):], t.self)
	if _, err := c.Write(hdr); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// writeFrames writes msgs as frames and flushes them.
func writeFrames(w *bufio.Writer, msgs []*raftpb.Message) error {
	var size [4]byte
	for _, m := range msgs {
		b, err := proto.Marshal(m)
		if err != nil {
			return err
		}
		binary.BigEndian.PutUint32(size[:], uint32(len(b)))
		if _, err := w.Write(size[:]); err != nil {
			return err
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return w.Flush()
}

// Serve reads the messages a peer streams on c, whose Preamble was
// already read, and steps them into the local node until c or the
// transport closes. It closes c.
func (t *TCPTransport) Serve(c net.Conn) {
	t.mu.Lock()
	if t.stopped || t.local == nil {
		t.mu.Unlock()
		c.Close()
		return
	}
	local, ctx := t.local, t.ctx
	t.inbound[c] = struct{}{}
	t.wg.Add(1)
	t.mu.Unlock()
	defer func() {
		t.mu.Lock()
		delete(t.inbound, c)
		t.mu.Unlock()
		c.Close()
		t.wg.Done()
	}()
	if err := t.read(ctx, local, c); err != nil && !errors.Is(err, io.EOF) && ctx.Err() == nil {
		t.log.Debug("raft: connection from peer closed", "remote", c.RemoteAddr().String(), "err", err)
	}
}

func (t *TCPTransport) read(ctx context.Context, local Receiver, c net.Conn) error {
	r := bufio.NewReaderSize(c, 64<<10)
	var id [8]byte
	if _, err := io.ReadFull(r, id[:]); err != nil {
		return err
	}
	from := binary.BigEndian.Uint64(id[:])
	if _, ok := t.addrs[from]; !ok {
		return fmt.Errorf("raft connection from node %d, which is not a peer", from)
	}
	var size [4]byte
	for {
		if _, err := io.ReadFull(r, size[:]); err != nil {
			return err
		}
		n := binary.BigEndian.Uint32(size[:])
		if n > maxFrame {
			return fmt.Errorf("raft frame of %d bytes from node %d, above %d", n, from, maxFrame)
		}
		buf := make([]byte, n)
		if _, err := io.ReadFull(r, buf); err != nil {
			return err
		}
		m := &raftpb.Message{}
		if err := proto.Unmarshal(buf, m); err != nil {
			return fmt.Errorf("raft frame from node %d: %w", from, err)
		}
		if m.GetFrom() != from || m.GetTo() != t.self {
			return fmt.Errorf("raft message %d→%d on the connection from node %d to node %d", m.GetFrom(), m.GetTo(), from, t.self)
		}
		if err := local.Step(ctx, m); err != nil {
			return err
		}
	}
}

// Stop implements Transport: it closes every connection and waits for the
// transport's goroutines.
func (t *TCPTransport) Stop() {
	t.mu.Lock()
	t.stopped = true
	t.cancel()
	for c := range t.inbound {
		c.Close()
	}
	t.mu.Unlock()
	t.wg.Wait()
}
