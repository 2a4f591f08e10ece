package handler_test

import (
	"context"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/kafka/handler"
	"github.com/sluice-io/sluice/internal/node"
	"github.com/sluice-io/sluice/internal/node/nodetest"
	"github.com/sluice-io/sluice/internal/storage/storagetest"
)

// panicLogs counts the broker's log records about a request's panic that
// carry a stack.
type panicLogs struct {
	slog.Handler
	n *atomic.Int64
}

func (h panicLogs) Enabled(context.Context, slog.Level) bool { return true }

func (h panicLogs) Handle(_ context.Context, r slog.Record) error {
	if r.Level == slog.LevelError && strings.Contains(r.Message, "panic") {
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "stack" && strings.Contains(a.Value.String(), "goroutine") {
				h.n.Add(1)
			}
			return true
		})
	}
	return nil
}

func (h panicLogs) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h panicLogs) WithGroup(string) slog.Handler      { return h }

// panicAt makes the nth run of handler code at point panic (counting from
// now) and returns how many runs it saw.
func panicAt(t *testing.T, point string, nth int64) (calls *atomic.Int64) {
	calls = new(atomic.Int64)
	restore := handler.SetTestHook(func(p string) {
		if p == point && calls.Add(1) == nth {
			panic("injected panic at " + point)
		}
	})
	t.Cleanup(restore)
	return calls
}

const panicTopic = "p"

func produceReq(acks int16, partitions ...int32) *kmsg.ProduceRequest {
	req := kmsg.NewPtrProduceRequest()
	req.Acks, req.TimeoutMillis = acks, 10000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = panicTopic
	for _, p := range partitions {
		rp := kmsg.NewProduceRequestTopicPartition()
		rp.Partition = p
		rp.Records = storagetest.Build(storagetest.Spec{Records: 1, NoProducer: true})
		rt.Partitions = append(rt.Partitions, rp)
	}
	req.Topics = append(req.Topics, rt)
	return req
}

func listOffsetsReq() *kmsg.ListOffsetsRequest {
	req := kmsg.NewPtrListOffsetsRequest()
	req.ReplicaID = -1
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = panicTopic
	rp := kmsg.NewListOffsetsRequestTopicPartition()
	rp.Timestamp = -1 // the log end
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return req
}

func fetchReq(offset int64, maxWait int32) *kmsg.FetchRequest {
	req := kmsg.NewPtrFetchRequest()
	req.ReplicaID, req.MaxWaitMillis, req.MinBytes, req.MaxBytes = -1, maxWait, 1, 1<<20
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic = panicTopic
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.FetchOffset, rp.PartitionMaxBytes = offset, 1<<20
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return req
}

// logEnd is partition 0's log end offset, asked on c; it fails the test
// unless the answer is a success, so it doubles as "c still works".
func logEnd(t *testing.T, c *nodetest.Raw) int64 {
	t.Helper()
	resp := c.Request(listOffsetsReq(), 4).(*kmsg.ListOffsetsResponse)
	p := resp.Topics[0].Partitions[0]
	if p.ErrorCode != 0 {
		t.Fatalf("list offsets on the same connection: %v", kerr.ErrorForCode(p.ErrorCode))
	}
	return p.Offset
}

func partitionCodes(resp *kmsg.ProduceResponse) []int16 {
	var codes []int16
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			codes = append(codes, p.ErrorCode)
		}
	}
	return codes
}

func allUnknown(codes []int16) bool {
	for _, c := range codes {
		if c != kerr.UnknownServerError.Code {
			return false
		}
	}
	return len(codes) > 0
}

// startPanicNode starts a node with topic p (3 partitions) and a loaded
// group coordinator for group g, and counts its panic logs.
func startPanicNode(t *testing.T) (*node.Node, *atomic.Int64) {
	logs := new(atomic.Int64)
	n := nodetest.Start(t, func(o *node.Options) { o.Log = slog.New(panicLogs{n: logs}) })
	cl, err := kgo.NewClient(kgo.SeedBrokers(n.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close() // no stray requests from it while a hook is armed
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	adm := kadm.NewClient(cl)
	if _, err := adm.CreateTopic(ctx, 3, 1, nil, panicTopic); err != nil {
		t.Fatal(err)
	}
	if err := adm.CommitAllOffsets(ctx, "g", kadm.Offsets{panicTopic: {0: {At: 0}}}); err != nil {
		t.Fatalf("commit (loads the coordinator): %v", err)
	}
	return n, logs
}

// TestPanicFailsOnlyItsRequest injects a panic on every path where
// handler code runs: the request gets UNKNOWN_SERVER_ERROR in its API's
// shape, the panic is logged once with its stack and counted, the same
// connection serves the next request, and other connections are served.
func TestPanicFailsOnlyItsRequest(t *testing.T) {
	n, logs := startPanicNode(t)
	tests := []struct {
		name  string
		point string
		nth   int64
		run   func(t *testing.T, c *nodetest.Raw, calls *atomic.Int64)
	}{
		{"reader goroutine: Handle", "handle", 1, func(t *testing.T, c *nodetest.Raw, _ *atomic.Int64) {
			resp := c.Request(listOffsetsReq(), 4).(*kmsg.ListOffsetsResponse)
			if code := resp.Topics[0].Partitions[0].ErrorCode; code != kerr.UnknownServerError.Code {
				t.Errorf("list offsets: code %d", code)
			}
		}},
		{"Later goroutine: controller write", "later", 1, func(t *testing.T, c *nodetest.Raw, _ *atomic.Int64) {
			req := kmsg.NewPtrCreateTopicsRequest()
			rt := kmsg.NewCreateTopicsRequestTopic()
			rt.Topic, rt.NumPartitions, rt.ReplicationFactor = "q", 1, 1
			req.Topics = append(req.Topics, rt)
			resp := c.Request(req, 7).(*kmsg.CreateTopicsResponse)
			if code := resp.Topics[0].ErrorCode; code != kerr.UnknownServerError.Code || resp.Topics[0].Topic != "q" {
				t.Errorf("create topics: %+v", resp.Topics)
			}
		}},
		{"Later goroutine: coordinator wait", "later", 1, func(t *testing.T, c *nodetest.Raw, _ *atomic.Int64) {
			req := kmsg.NewPtrOffsetCommitRequest()
			req.Group, req.Generation = "g", -1
			rt := kmsg.NewOffsetCommitRequestTopic()
			rt.Topic = panicTopic
			rp := kmsg.NewOffsetCommitRequestTopicPartition()
			rp.Offset = 1
			rt.Partitions = append(rt.Partitions, rp)
			req.Topics = append(req.Topics, rt)
			resp := c.Request(req, 8).(*kmsg.OffsetCommitResponse)
			if code := resp.Topics[0].Partitions[0].ErrorCode; code != kerr.UnknownServerError.Code {
				t.Errorf("offset commit: code %d", code)
			}
		}},
		{"acks=all completion, in a helper goroutine", "produce-durable", 2, func(t *testing.T, c *nodetest.Raw, _ *atomic.Int64) {
			resp := c.Request(produceReq(-1, 0, 1, 2), 9).(*kmsg.ProduceResponse)
			if codes := partitionCodes(resp); !allUnknown(codes) {
				t.Errorf("produce acks=all: codes %v", codes)
			}
		}},
		{"fetch wait woken by a produce", "fetch-wait", 2, func(t *testing.T, c *nodetest.Raw, calls *atomic.Int64) {
			fetch := fetchReq(logEnd(t, c), 20000)
			start := time.Now()
			c.Send(fetch, 11)
			waitFor(t, "the fetch to wait", func() bool { return calls.Load() >= 1 })
			p := nodetest.Dial(t, n) // the producer's own answer must be a success
			if codes := partitionCodes(p.Request(produceReq(1, 0), 9).(*kmsg.ProduceResponse)); codes[0] != 0 {
				t.Errorf("the produce that woke the fetch got %v", codes)
			}
			resp := c.Read(fetch, 11).(*kmsg.FetchResponse)
			if code := resp.Topics[0].Partitions[0].ErrorCode; code != kerr.UnknownServerError.Code {
				t.Errorf("fetch: code %d", code)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("fetch answered after %v: not by the produce", d)
			}
		}},
		{"fetch wait expired by its timer", "fetch-wait", 2, func(t *testing.T, c *nodetest.Raw, _ *atomic.Int64) {
			resp := c.Request(fetchReq(logEnd(t, c), 100), 11).(*kmsg.FetchResponse)
			if code := resp.Topics[0].Partitions[0].ErrorCode; code != kerr.UnknownServerError.Code {
				t.Errorf("fetch: code %d", code)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := nodetest.Dial(t, n)
			logEnd(t, c) // the connection is open and served
			panicsBefore, logsBefore := handler.Panics(), logs.Load()
			calls := panicAt(t, tt.point, tt.nth)
			tt.run(t, c, calls)
			if got := calls.Load(); got < tt.nth {
				t.Fatalf("hook %q ran %d times, want %d", tt.point, got, tt.nth)
			}
			if d := handler.Panics() - panicsBefore; d != 1 {
				t.Errorf("Panics() grew by %d, want 1", d)
			}
			waitFor(t, "the panic's log", func() bool { return logs.Load() > logsBefore })
			if d := logs.Load() - logsBefore; d != 1 {
				t.Errorf("%d panic logs with a stack, want 1", d)
			}
			logEnd(t, c)                   // the same connection still works
			logEnd(t, nodetest.Dial(t, n)) // and so does another one
		})
	}
}

// TestPanicInAcksZeroProduceClosesConnection: an acks=0 produce expects
// no answer, so a panic in it ends its connection, as any acks=0 error
// does; the broker keeps serving.
func TestPanicInAcksZeroProduceClosesConnection(t *testing.T) {
	n, logs := startPanicNode(t)
	c := nodetest.Dial(t, n)
	logEnd(t, c)
	before := handler.Panics()
	panicAt(t, "handle", 1)
	c.Send(produceReq(0, 0), 9)
	if !c.Closed(10 * time.Second) {
		t.Fatal("the connection of a panicking acks=0 produce stayed open")
	}
	if d := handler.Panics() - before; d != 1 {
		t.Errorf("Panics() grew by %d, want 1", d)
	}
	waitFor(t, "the panic's log", func() bool { return logs.Load() == 1 })
	logEnd(t, nodetest.Dial(t, n))
}

// waitFor polls cond until it holds or 10 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
