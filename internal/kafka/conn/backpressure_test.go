package conn_test

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/kafka/conn"
	"github.com/sluice-io/sluice/internal/node"
	"github.com/sluice-io/sluice/internal/node/nodetest"
	"github.com/sluice-io/sluice/internal/storage/storagetest"
)

// waitUntil polls cond until it holds or 20 s pass.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func createTopic(t *testing.T, n *node.Node, name string, partitions int32) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := nodetest.Admin(t, n).CreateTopic(ctx, partitions, 1, nil, name); err != nil {
		t.Fatal(err)
	}
}

// longPoll is a fetch of an empty partition that waits maxWait for data.
func longPoll(topic string, maxWait time.Duration) *kmsg.FetchRequest {
	req := kmsg.NewPtrFetchRequest()
	req.ReplicaID, req.MaxWaitMillis, req.MinBytes, req.MaxBytes = -1, int32(maxWait/time.Millisecond), 1, 1<<20
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.PartitionMaxBytes = 1 << 20
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return req
}

// requestFrame encodes req as one request frame.
func requestFrame(req kmsg.Request, version int16) []byte {
	req.SetVersion(version)
	return kmsg.NewRequestFormatter(kmsg.FormatterClientID("flood")).AppendRequest(nil, req, 100)
}

// flood writes frame count times on c, counting the frames written, until
// a write fails (the test closes c).
func flood(c net.Conn, frame []byte, count int, written *atomic.Int64) {
	c.SetWriteDeadline(time.Time{})
	for range count {
		if _, err := c.Write(frame); err != nil {
			return
		}
		written.Add(1)
	}
}

// roundTrip shows the broker serves a new connection: a produce and a
// fetch of what it wrote.
func roundTrip(t *testing.T, n *node.Node, topic string) {
	t.Helper()
	c := nodetest.Dial(t, n)
	resp := c.Request(produceTo(1, topic, 1, storagetest.Build(storagetest.Spec{Records: 1, NoProducer: true})), 9).(*kmsg.ProduceResponse)
	if code := resp.Topics[0].Partitions[0].ErrorCode; code != 0 {
		t.Fatalf("produce on another connection: code %d", code)
	}
	f := longPoll(topic, 0)
	f.Topics[0].Partitions[0].Partition = 1
	f.Topics[0].Partitions[0].FetchOffset = resp.Topics[0].Partitions[0].BaseOffset
	fr := c.Request(f, 11).(*kmsg.FetchResponse)
	if p := fr.Topics[0].Partitions[0]; p.ErrorCode != 0 || len(p.RecordBatches) == 0 {
		t.Fatalf("fetch on another connection: code %d, %d bytes", p.ErrorCode, len(p.RecordBatches))
	}
}

// TestUnreadRepliesDoNotPinMemory is issue 13's report: a long-poll fetch,
// then 40 produce requests of 16 MiB whose answers are never read. The
// connection holds at most its budget (32 MiB by default) because the
// broker stops reading it; other connections are served meanwhile, and
// closing it returns the budget.
func TestUnreadRepliesDoNotPinMemory(t *testing.T) {
	n := nodetest.Start(t)
	createTopic(t, n, "t", 2)
	srv := n.Listener()

	c := nodetest.Dial(t, n)
	c.Send(longPoll("t", 30*time.Second), 11)
	big := storagetest.Build(storagetest.Spec{Records: 1, ValueSize: 16 << 20, NoProducer: true})
	frame := requestFrame(produceTo(1, "t", 1, big), 9) // refused as too large: wakes no fetch
	var written atomic.Int64
	go flood(c.C, frame, 40, &written)

	waitUntil(t, "the reader to stop for lack of budget", func() bool { return srv.Stats().ReadersWaiting == 1 })
	st := srv.Stats()
	if st.MaxConnBytes > conn.DefaultPerConnBytes {
		t.Errorf("the connection holds %d bytes, over its budget of %d", st.MaxConnBytes, conn.DefaultPerConnBytes)
	}
	if st.MaxConnBytes < int64(len(frame)) {
		t.Errorf("the connection holds %d bytes: not even one produce", st.MaxConnBytes)
	}
	roundTrip(t, n, "t")
	// Stalled: the broker reads nothing more while the replies are unread.
	before := written.Load()
	if before >= 40 {
		t.Fatalf("all %d frames were taken", before)
	}
	if st := srv.Stats(); st.MaxConnBytes > conn.DefaultPerConnBytes || st.ReadersWaiting != 1 {
		t.Errorf("after serving another connection: %+v", st)
	}
	// The broker sees the end of the connection when it writes to it
	// again: once a record answers the fetch.
	c.C.Close()
	nodetest.Dial(t, n).Request(produceTo(1, "t", 0, storagetest.Build(storagetest.Spec{Records: 1, NoProducer: true})), 9)
	waitUntil(t, "the budget to come back", func() bool {
		st := srv.Stats()
		return st.Requests == 0 && st.Bytes == 0 && st.ReadersWaiting == 0
	})
}

// TestQueuedRequestBytesBoundsAllConnections: queued.max.request.bytes
// bounds the bytes of all connections together; a connection with
// nothing in flight is still served.
func TestQueuedRequestBytesBoundsAllConnections(t *testing.T) {
	const maxRequest, total = 1 << 20, 3 << 20
	n := nodetest.Start(t, func(o *node.Options) {
		o.MaxRequestBytes = maxRequest
		o.Requests = conn.RequestLimits{QueuedBytes: total} // no per-connection bound
	})
	createTopic(t, n, "t", 2)
	srv := n.Listener()
	frame := requestFrame(produceTo(1, "t", 1, storagetest.Build(storagetest.Spec{Records: 1,
		ValueSize: 900 << 10, NoProducer: true})), 9) // partition 1: wakes no fetch
	for range 2 {
		c := nodetest.Dial(t, n)
		c.Send(longPoll("t", 30*time.Second), 11)
		go flood(c.C, frame, 20, new(atomic.Int64))
	}
	waitUntil(t, "both readers to stop", func() bool { return srv.Stats().ReadersWaiting == 2 })
	if st := srv.Stats(); st.Bytes > total {
		t.Errorf("connections hold %d bytes, over queued.max.request.bytes %d", st.Bytes, total)
	}
	roundTrip(t, n, "t")
}

// TestQueuedMaxRequestsBoundsPipelining: queued.max.requests bounds the
// requests read behind an earlier unanswered one, over all connections;
// once the answers come, the waiting requests are read and answered in
// order.
func TestQueuedMaxRequestsBoundsPipelining(t *testing.T) {
	n := nodetest.Start(t, func(o *node.Options) { o.Requests = conn.RequestLimits{QueuedRequests: 2} })
	createTopic(t, n, "t", 2)
	srv := n.Listener()
	c := nodetest.Dial(t, n)
	fetches := make([]*kmsg.FetchRequest, 5)
	for i := range fetches {
		fetches[i] = longPoll("t", 30*time.Second)
		c.Send(fetches[i], 11)
	}
	waitUntil(t, "the reader to stop", func() bool { return srv.Stats().ReadersWaiting == 1 })
	if st := srv.Stats(); st.Requests != 3 || st.Queued != 2 {
		t.Errorf("in flight %d, queued %d; want 3 and 2", st.Requests, st.Queued)
	}
	roundTrip(t, n, "t") // its first request is always read; partition 1 wakes nobody
	if st := srv.Stats(); st.ReadersWaiting != 1 {
		t.Errorf("the pipelining connection was read meanwhile: %+v", st)
	}
	// A record on partition 0 answers the parked fetches, and the rest
	// are read and answered at once.
	p := nodetest.Dial(t, n)
	p.Request(produceTo(1, "t", 0, storagetest.Build(storagetest.Spec{Records: 1, NoProducer: true})), 9)
	for i, f := range fetches {
		resp := c.Read(f, 11).(*kmsg.FetchResponse)
		if part := resp.Topics[0].Partitions[0]; part.ErrorCode != 0 || len(part.RecordBatches) == 0 {
			t.Errorf("fetch %d: code %d, %d bytes", i, part.ErrorCode, len(part.RecordBatches))
		}
	}
}
