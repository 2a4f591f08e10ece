package integration

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/node"
	"github.com/sluice-io/sluice/internal/node/nodetest"
)

// rawConn is a bare Kafka connection for sending hand-made frames.
type rawConn struct {
	t testing.TB
	c net.Conn
}

func dial(t testing.TB, n *node.Node) *rawConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", n.Addr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(20 * time.Second))
	return &rawConn{t: t, c: c}
}

func (r *rawConn) send(frame []byte) {
	r.t.Helper()
	if _, err := r.c.Write(frame); err != nil {
		r.t.Fatalf("write: %v", err)
	}
}

// request sends req at version v and decodes the answer.
func (r *rawConn) request(req kmsg.Request, v int16) kmsg.Response {
	r.t.Helper()
	req.SetVersion(v)
	r.send(kmsg.NewRequestFormatter(kmsg.FormatterClientID("raw")).AppendRequest(nil, req, 7))
	resp := req.ResponseKind()
	resp.SetVersion(v)
	body := r.readFrame()
	body = body[4:] // correlation id
	if resp.IsFlexible() && req.Key() != 18 {
		body = body[1:] // empty header tags
	}
	if err := resp.ReadFrom(body); err != nil {
		r.t.Fatalf("decode %T: %v", resp, err)
	}
	return resp
}

func (r *rawConn) readFrame() []byte {
	r.t.Helper()
	var size [4]byte
	if _, err := io.ReadFull(r.c, size[:]); err != nil {
		r.t.Fatalf("read response: %v", err)
	}
	b := make([]byte, binary.BigEndian.Uint32(size[:]))
	if _, err := io.ReadFull(r.c, b); err != nil {
		r.t.Fatalf("read response: %v", err)
	}
	return b
}

// closed reports whether the server closed the connection.
func (r *rawConn) closed() bool {
	var b [1]byte
	_, err := r.c.Read(b[:])
	return errors.Is(err, io.EOF)
}

// stillServes checks that a fresh connection gets metadata.
func stillServes(t *testing.T, n *node.Node) {
	t.Helper()
	resp := dial(t, n).request(kmsg.NewPtrMetadataRequest(), 9).(*kmsg.MetadataResponse)
	if len(resp.Brokers) != 1 {
		t.Fatalf("after bad input: metadata lists %d brokers", len(resp.Brokers))
	}
}

func TestOversizedFrameClosesOnlyItsConnection(t *testing.T) {
	n := nodetest.Start(t, func(o *node.Options) { o.MaxRequestBytes = 1 << 20 })
	other := dial(t, n)
	bad := dial(t, n)
	bad.send(binary.BigEndian.AppendUint32(nil, 2<<20))
	if !bad.closed() {
		t.Fatal("oversized frame: connection not closed")
	}
	if resp := other.request(kmsg.NewPtrApiVersionsRequest(), 3).(*kmsg.ApiVersionsResponse); resp.ErrorCode != 0 {
		t.Fatalf("other connection: ApiVersions error %d", resp.ErrorCode)
	}
	stillServes(t, n)
}

func TestUnknownAPIKeyClosesConnection(t *testing.T) {
	n := nodetest.Start(t)
	c := dial(t, n)
	frame := []byte{0, 0, 0, 10, 0x7f, 0x00, 0, 1, 0, 0, 0, 9, 0xff, 0xff} // key 32512 v1
	c.send(frame)
	if !c.closed() {
		t.Fatal("unknown api key: connection not closed")
	}
	stillServes(t, n)
}

func TestUnsupportedVersion(t *testing.T) {
	n := nodetest.Start(t)
	t.Run("ApiVersions newer than served", func(t *testing.T) {
		c := dial(t, n)
		// ApiVersions v99: header v2 is not parsed past the client id.
		frame := []byte{0, 0, 0, 12, 0, 18, 0, 99, 0, 0, 0, 5, 0, 0, 0, 0}
		c.send(frame)
		b := c.readFrame()
		resp := kmsg.NewPtrApiVersionsResponse()
		resp.SetVersion(0)
		if err := resp.ReadFrom(b[4:]); err != nil {
			t.Fatal(err)
		}
		if resp.ErrorCode != kerr.UnsupportedVersion.Code || len(resp.ApiKeys) == 0 {
			t.Fatalf("ApiVersions v99: error %d with %d keys, want UNSUPPORTED_VERSION with the served keys", resp.ErrorCode, len(resp.ApiKeys))
		}
	})
	t.Run("Produce v1 is below the served range", func(t *testing.T) {
		c := dial(t, n)
		req := kmsg.NewPtrProduceRequest()
		req.SetVersion(1)
		c.send(kmsg.NewRequestFormatter().AppendRequest(nil, req, 1))
		if !c.closed() {
			t.Fatal("produce v1: connection not closed")
		}
	})
	stillServes(t, n)
}

func TestCorruptBatchRejectedPartitionKeepsServing(t *testing.T) {
	n := nodetest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl := nodetest.Client(t, n, kgo.DefaultProduceTopic("crc"), kgo.DisableIdempotentWrite(), kgo.AllowAutoTopicCreation())
	if err := cl.ProduceSync(ctx, kgo.StringRecord("before")).FirstErr(); err != nil {
		t.Fatal(err)
	}
	// A valid batch from franz-go, with one record byte flipped.
	rb := kmsg.RecordBatch{FirstOffset: 0, Magic: 2, LastOffsetDelta: 0, FirstTimestamp: 1, MaxTimestamp: 1,
		ProducerID: -1, ProducerEpoch: -1, FirstSequence: -1, NumRecords: 1,
		Records: (&kmsg.Record{Value: []byte("corrupt me")}).AppendTo(nil)}
	raw := rb.AppendTo(nil)
	raw[len(raw)-2] ^= 0xff
	req := kmsg.NewPtrProduceRequest()
	req.Acks, req.TimeoutMillis = 1, 5000
	topic := kmsg.NewProduceRequestTopic()
	topic.Topic = "crc"
	part := kmsg.NewProduceRequestTopicPartition()
	part.Records = raw
	topic.Partitions = append(topic.Partitions, part)
	req.Topics = append(req.Topics, topic)
	resp := dial(t, n).request(req, 9).(*kmsg.ProduceResponse)
	if got := resp.Topics[0].Partitions[0].ErrorCode; got != kerr.CorruptMessage.Code {
		t.Fatalf("bad crc: error %d, want CORRUPT_MESSAGE", got)
	}
	if err := cl.ProduceSync(ctx, kgo.StringRecord("after")).FirstErr(); err != nil {
		t.Fatalf("produce after a corrupt batch: %v", err)
	}
	cons := nodetest.Client(t, n, kgo.ConsumeTopics("crc"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	var got []string
	for len(got) < 2 {
		fs := cons.PollFetches(ctx)
		if err := fs.Err(); err != nil {
			t.Fatal(err)
		}
		fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	if len(got) != 2 || got[0] != "before" || got[1] != "after" {
		t.Fatalf("partition holds %q, want [before after]", got)
	}
}

func TestMissingTopic(t *testing.T) {
	for _, auto := range []bool{false, true} {
		n := nodetest.Start(t, func(o *node.Options) { o.Handler.AutoCreateTopics = auto })
		req := kmsg.NewPtrMetadataRequest()
		mt := kmsg.NewMetadataRequestTopic()
		mt.Topic = kmsg.StringPtr("nosuch")
		req.Topics = append(req.Topics, mt)
		req.AllowAutoTopicCreation = true
		resp := dial(t, n).request(req, 9).(*kmsg.MetadataResponse)
		code := resp.Topics[0].ErrorCode
		switch {
		case !auto && code != kerr.UnknownTopicOrPartition.Code:
			t.Errorf("auto-create off: error %d, want UNKNOWN_TOPIC_OR_PARTITION", code)
		case auto && (code != 0 || len(resp.Topics[0].Partitions) != 1):
			t.Errorf("auto-create on: error %d with %d partitions, want the created topic", code, len(resp.Topics[0].Partitions))
		}
	}
}
