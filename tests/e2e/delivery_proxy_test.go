package e2e

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// lossyProxy forwards Kafka connections from a loopback port to a broker
// and loses the answers to chosen produce requests: it forwards such a
// request, waits for the broker's answer (so the batch is appended), then
// closes both connections without passing the answer on. The client sees
// its connection drop and retries the batch on a new one. The broker must
// advertise the proxy's address (advertised.listeners) so that clients
// keep going through it. Safe for concurrent use.
type lossyProxy struct {
	t      *testing.T
	ln     net.Listener
	target string
	loseAt map[int]bool // ordinals (from 1) of the produce requests whose answer is lost
	wg     sync.WaitGroup

	mu       sync.Mutex
	produces int          // produce requests forwarded
	batches  []batchID    // every produced batch forwarded, in order
	lost     []lostAnswer // the answers not passed on
	conns    []net.Conn   // every connection, closed by close
	closed   bool
}

// batchID is what identifies a produced batch to the idempotent producer
// state: producer id, epoch and base sequence.
type batchID struct {
	Partition    int32
	ProducerID   int64
	Epoch        int16
	BaseSequence int32
	Records      int32
}

// lostAnswer is a produce answer the proxy did not pass on.
type lostAnswer struct {
	batches    []batchID
	errorCode  int16
	baseOffset int64
}

// newLossyProxy listens on a free loopback port; serve starts forwarding.
func newLossyProxy(t *testing.T, loseAt ...int) *lossyProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &lossyProxy{t: t, ln: ln, loseAt: map[int]bool{}}
	for _, n := range loseAt {
		p.loseAt[n] = true
	}
	t.Cleanup(p.close)
	return p
}

// Addr is the proxy's address.
func (p *lossyProxy) Addr() string { return p.ln.Addr().String() }

// serve forwards every connection to target until close.
func (p *lossyProxy) serve(target string) {
	p.target = target
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := p.ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			if !p.track(c, up) {
				return
			}
			pc := &proxyConn{p: p, client: c, broker: up}
			p.wg.Add(2)
			go pc.requests()
			go pc.answers()
		}
	}()
}

func (p *lossyProxy) track(conns ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		for _, c := range conns {
			c.Close()
		}
		return false
	}
	p.conns = append(p.conns, conns...)
	return true
}

func (p *lossyProxy) close() {
	p.ln.Close()
	p.mu.Lock()
	p.closed = true
	for _, c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// snapshot returns the batches forwarded and the answers lost so far.
func (p *lossyProxy) snapshot() ([]batchID, []lostAnswer) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]batchID(nil), p.batches...), append([]lostAnswer(nil), p.lost...)
}

// proxyConn is one client connection and its broker connection.
type proxyConn struct {
	p              *lossyProxy
	client, broker net.Conn

	mu          sync.Mutex
	loseCorr    int32 // correlation id of the request whose answer is lost; 0 for none
	loseVersion int16
	loseBatches []batchID
}

// requests forwards the client's requests to the broker.
func (c *proxyConn) requests() {
	defer c.p.wg.Done()
	defer c.broker.Close()
	for {
		frame, err := readSizedFrame(c.client)
		if err != nil {
			return
		}
		if len(frame) >= 12 && int16(binary.BigEndian.Uint16(frame[4:])) == 0 {
			version := int16(binary.BigEndian.Uint16(frame[6:]))
			corr := int32(binary.BigEndian.Uint32(frame[8:]))
			ids, err := produceBatches(frame[4:], version)
			if err != nil {
				c.p.t.Errorf("proxy: %v", err)
				return
			}
			c.p.mu.Lock()
			c.p.produces++
			lose := c.p.loseAt[c.p.produces]
			c.p.batches = append(c.p.batches, ids...)
			c.p.mu.Unlock()
			if lose {
				c.mu.Lock()
				c.loseCorr, c.loseVersion, c.loseBatches = corr, version, ids
				c.mu.Unlock()
			}
		}
		if _, err := c.broker.Write(frame); err != nil {
			return
		}
	}
}

// answers forwards the broker's answers to the client, except a lost one,
// which closes both connections.
func (c *proxyConn) answers() {
	defer c.p.wg.Done()
	defer c.client.Close()
	for {
		frame, err := readSizedFrame(c.broker)
		if err != nil {
			return
		}
		corr := int32(binary.BigEndian.Uint32(frame[4:]))
		c.mu.Lock()
		lose, version, ids := c.loseCorr != 0 && corr == c.loseCorr, c.loseVersion, c.loseBatches
		c.mu.Unlock()
		if lose {
			la := lostAnswer{batches: ids, errorCode: -1, baseOffset: -1}
			if resp, err := produceAnswer(frame[4:], version); err == nil && len(resp.Topics) > 0 && len(resp.Topics[0].Partitions) > 0 {
				la.errorCode, la.baseOffset = resp.Topics[0].Partitions[0].ErrorCode, resp.Topics[0].Partitions[0].BaseOffset
			}
			c.p.mu.Lock()
			c.p.lost = append(c.p.lost, la)
			c.p.mu.Unlock()
			c.broker.Close()
			return
		}
		if _, err := c.client.Write(frame); err != nil {
			return
		}
	}
}

// readSizedFrame reads one size-prefixed Kafka frame, size included.
func readSizedFrame(r io.Reader) ([]byte, error) {
	var size [4]byte
	if _, err := io.ReadFull(r, size[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(size[:])
	if n < 4 || n > 64<<20 {
		return nil, fmt.Errorf("frame of %d bytes", n)
	}
	frame := make([]byte, 4+n)
	copy(frame, size[:])
	_, err := io.ReadFull(r, frame[4:])
	return frame, err
}

// produceBatches decodes a Produce request (header and body, no size) and
// returns the identity of each partition's batch.
func produceBatches(req []byte, version int16) ([]batchID, error) {
	if len(req) < 10 {
		return nil, errors.New("short produce request")
	}
	rest := req[8:] // key, version, correlation id
	if n := int16(binary.BigEndian.Uint16(rest)); n > 0 {
		rest = rest[2+int(n):]
	} else {
		rest = rest[2:]
	}
	msg := kmsg.NewPtrProduceRequest()
	msg.SetVersion(version)
	if msg.IsFlexible() {
		var err error
		if rest, err = skipTaggedFields(rest); err != nil {
			return nil, err
		}
	}
	if err := msg.ReadFrom(rest); err != nil {
		return nil, fmt.Errorf("produce v%d: %w", version, err)
	}
	var ids []batchID
	for _, t := range msg.Topics {
		for _, pt := range t.Partitions {
			b := pt.Records
			if len(b) < 61 {
				continue
			}
			be := binary.BigEndian
			ids = append(ids, batchID{Partition: pt.Partition, ProducerID: int64(be.Uint64(b[43:])),
				Epoch: int16(be.Uint16(b[51:])), BaseSequence: int32(be.Uint32(b[53:])), Records: int32(be.Uint32(b[57:]))})
		}
	}
	return ids, nil
}

// produceAnswer decodes a Produce response (header and body, no size).
func produceAnswer(resp []byte, version int16) (*kmsg.ProduceResponse, error) {
	msg := kmsg.NewPtrProduceResponse()
	msg.SetVersion(version)
	rest := resp[4:] // correlation id
	if msg.IsFlexible() {
		var err error
		if rest, err = skipTaggedFields(rest); err != nil {
			return nil, err
		}
	}
	return msg, msg.ReadFrom(rest)
}

// skipTaggedFields skips a header's tagged fields.
func skipTaggedFields(b []byte) ([]byte, error) {
	count, n := binary.Uvarint(b)
	if n <= 0 {
		return nil, errors.New("bad tagged field count")
	}
	b = b[n:]
	for range count {
		if _, n = binary.Uvarint(b); n <= 0 {
			return nil, errors.New("bad tag")
		}
		b = b[n:]
		size, n := binary.Uvarint(b)
		if n <= 0 || size > uint64(len(b)-n) {
			return nil, errors.New("bad tagged field size")
		}
		b = b[n+int(size):]
	}
	return b, nil
}
