package conn_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"io"
	"net"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/node/nodetest"
	"github.com/sluice-io/sluice/internal/storage/storagetest"
)

// rawClient speaks Kafka with pre-encoded frames, so a benchmark's
// allocations are the broker's (it runs in the same process).
type rawClient struct {
	c   net.Conn
	r   *bufio.Reader
	buf []byte
}

// frame encodes req (non-flexible versions only) as a request frame.
func frame(req kmsg.Request, version int16) []byte {
	req.SetVersion(version)
	b := []byte{0, 0, 0, 0}
	b = binary.BigEndian.AppendUint16(b, uint16(req.Key()))
	b = binary.BigEndian.AppendUint16(b, uint16(version))
	b = binary.BigEndian.AppendUint32(b, 1) // correlation id
	b = binary.BigEndian.AppendUint16(b, 5)
	b = append(b, "bench"...)
	b = req.AppendTo(b)
	binary.BigEndian.PutUint32(b, uint32(len(b)-4))
	return b
}

// roundTrip sends one frame and reads its response body into c.buf.
func (c *rawClient) roundTrip(tb testing.TB, f []byte) []byte {
	if _, err := c.c.Write(f); err != nil {
		tb.Fatal(err)
	}
	var size [4]byte
	if _, err := io.ReadFull(c.r, size[:]); err != nil {
		tb.Fatal(err)
	}
	n := int(binary.BigEndian.Uint32(size[:]))
	if cap(c.buf) < n {
		c.buf = make([]byte, n)
	}
	c.buf = c.buf[:n]
	if _, err := io.ReadFull(c.r, c.buf); err != nil {
		tb.Fatal(err)
	}
	return c.buf[4:] // after the correlation id
}

// BenchmarkRoundTrip measures one request through a real broker over
// loopback: read, decode, handle, append or read the log, encode, write.
// allocs/op are the broker's. The batch holds 16 records of 1 KiB.
func BenchmarkRoundTrip(b *testing.B) {
	n := nodetest.Start(b)
	adm := nodetest.Admin(b, n)
	if _, err := adm.CreateTopic(context.Background(), 1, 1, nil, "bench"); err != nil {
		b.Fatal(err)
	}
	c, err := net.Dial("tcp", n.Addr())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	cl := &rawClient{c: c, r: bufio.NewReaderSize(c, 64<<10)}
	records := storagetest.Build(storagetest.Spec{Records: 16, ValueSize: 1024, NoProducer: true})

	produce := func(acks int16) []byte {
		req := kmsg.NewPtrProduceRequest()
		req.Acks, req.TimeoutMillis = acks, 5000
		t := kmsg.NewProduceRequestTopic()
		t.Topic = "bench"
		p := kmsg.NewProduceRequestTopicPartition()
		p.Records = records
		t.Partitions = append(t.Partitions, p)
		req.Topics = append(req.Topics, t)
		return frame(req, 8)
	}
	check := func(body []byte, resp kmsg.Response) {
		resp.SetVersion(8)
		if err := resp.ReadFrom(body); err != nil {
			b.Fatal(err)
		}
	}
	for _, bc := range []struct {
		name string
		acks int16
	}{{"produce acks=1", 1}, {"produce acks=all", -1}} {
		f := produce(bc.acks)
		var resp kmsg.ProduceResponse
		check(cl.roundTrip(b, f), &resp)
		if code := resp.Topics[0].Partitions[0].ErrorCode; code != 0 {
			b.Fatalf("produce: error %d", code)
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(records)))
			for b.Loop() {
				cl.roundTrip(b, f)
			}
		})
	}

	fetch := kmsg.NewPtrFetchRequest()
	fetch.ReplicaID, fetch.MaxBytes, fetch.MinBytes = -1, 1<<20, 1
	ft := kmsg.NewFetchRequestTopic()
	ft.Topic = "bench"
	fp := kmsg.NewFetchRequestTopicPartition()
	fp.PartitionMaxBytes = int32(len(records)) // one batch
	ft.Partitions = append(ft.Partitions, fp)
	fetch.Topics = append(fetch.Topics, ft)
	ff := frame(fetch, 11)
	b.Run("fetch", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(records)))
		for b.Loop() {
			cl.roundTrip(b, ff)
		}
	})
}
