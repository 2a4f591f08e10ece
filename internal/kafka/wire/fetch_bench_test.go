package wire

import (
	"fmt"
	"io"
	"net"
	"os"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/model"
)

// benchFetch is a response of parts partitions over two topics, each with
// size record bytes from f.
func benchFetch(f *os.File, parts int, size int64) *FetchResponse {
	r := &FetchResponse{SessionID: 0}
	for ti := range 2 {
		t := FetchTopic{Topic: fmt.Sprintf("bench-%d", ti), TopicID: model.TopicID{byte(ti + 1)}}
		for pi := ti; pi < parts; pi += 2 {
			p := NewFetchPartition(int32(pi), 0)
			p.HighWatermark, p.LastStableOffset, p.LogStartOffset = 1000, 1000, 0
			p.Records = FileSection{File: f, Pos: int64(pi) * size, Len: size}
			t.Partitions = append(t.Partitions, p)
		}
		r.Topics = append(r.Topics, t)
	}
	return r
}

// kmsgFetch is the same response as kmsg builds it: records read into
// memory first.
func kmsgFetch(b *testing.B, version int16, r *FetchResponse) *kmsg.FetchResponse {
	k := &kmsg.FetchResponse{Version: version}
	for _, t := range r.Topics {
		kt := kmsg.NewFetchResponseTopic()
		kt.Topic, kt.TopicID = t.Topic, t.TopicID
		for _, p := range t.Partitions {
			kp := kmsg.NewFetchResponseTopicPartition()
			kp.Partition, kp.HighWatermark = p.Partition, int64(p.HighWatermark)
			kp.RecordBatches = make([]byte, p.Records.Len)
			if _, err := p.Records.File.ReadAt(kp.RecordBatches, p.Records.Pos); err != nil {
				b.Fatal(err)
			}
			kt.Partitions = append(kt.Partitions, kp)
		}
		k.Topics = append(k.Topics, kt)
	}
	return k
}

// BenchmarkEncodeFetch encodes a 6-partition response into a reused Body:
// the cost per response on the fetch path before the socket.
func BenchmarkEncodeFetch(b *testing.B) {
	f, _ := recordsFile(b, 6*64<<10)
	r := benchFetch(f, 6, 64<<10)
	for _, v := range []int16{11, 17} {
		b.Run(fmt.Sprintf("v%d", v), func(b *testing.B) {
			var body Body
			b.ReportAllocs()
			for b.Loop() {
				if err := EncodeFetch(v, r, &body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkKmsgAppendTo is the in-memory alternative for comparison: the
// same response with its records already in memory, appended to a reused
// buffer (reading them from the file is not counted).
func BenchmarkKmsgAppendTo(b *testing.B) {
	f, _ := recordsFile(b, 6*64<<10)
	k := kmsgFetch(b, 17, benchFetch(f, 6, 64<<10))
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = k.AppendTo(buf[:0])
	}
}

// onlyWriter hides *net.TCPConn, forcing the copy path.
type onlyWriter struct{ io.Writer }

// BenchmarkWriteFrameTCP sends a 6 x 64 KiB response over loopback, by
// sendfile and by copy.
func BenchmarkWriteFrameTCP(b *testing.B) {
	const size = 64 << 10
	f, _ := recordsFile(b, 6*size)
	r := benchFetch(f, 6, size)
	for _, mode := range []string{"sendfile", "copy"} {
		b.Run(mode, func(b *testing.B) {
			client, server := tcpPair(b)
			go func() { _, _ = io.Copy(io.Discard, server) }()
			var w io.Writer = client
			if mode == "copy" {
				w = onlyWriter{client}
			}
			var body Body
			if err := EncodeFetch(17, r, &body); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(body.Len())
			b.ReportAllocs()
			for b.Loop() {
				if _, err := body.WriteFrame(w, 1, true); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair(tb testing.TB) (client, server *net.TCPConn) {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			accepted <- nil
			return
		}
		accepted <- c
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		tb.Fatal(err)
	}
	s := <-accepted
	if s == nil {
		tb.Fatal("accept failed")
	}
	tb.Cleanup(func() { c.Close(); s.Close() })
	return c.(*net.TCPConn), s.(*net.TCPConn)
}
