package controller

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/metadata"
)

// lateQuorum applies entries in order on its own goroutine, a little
// after they are proposed, as raft does once an entry commits; Propose
// returns early when ctx ends, and the entry still applies.
type lateQuorum struct {
	pub   *metadata.Publisher
	queue chan lateEntry
	mu    sync.Mutex
	errs  []error // apply errors; guarded by mu
}

type lateEntry struct {
	data []byte
	done chan error
}

func newLateQuorum(pub *metadata.Publisher) *lateQuorum {
	q := &lateQuorum{pub: pub, queue: make(chan lateEntry, 16)}
	go func() {
		index := uint64(0)
		for e := range q.queue {
			time.Sleep(20 * time.Millisecond) // commit latency
			index++
			err := q.pub.Apply(index, e.data)
			if err != nil {
				q.mu.Lock()
				q.errs = append(q.errs, err)
				q.mu.Unlock()
			}
			e.done <- err
		}
	}()
	return q
}

func (q *lateQuorum) LeaderTerm() (uint64, bool) { return 1, true }

func (q *lateQuorum) ProposeInTerm(ctx context.Context, _ uint64, data []byte) (uint64, error) {
	return q.Propose(ctx, data)
}

func (q *lateQuorum) Propose(ctx context.Context, data []byte) (uint64, error) {
	e := lateEntry{data: data, done: make(chan error, 1)}
	q.queue <- e
	select {
	case err := <-e.done:
		return 0, err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// TestCancelledCreateStillSerializes: a CreateTopics whose client goes
// away after its entry is proposed must not let the next CreateTopics of
// the same name compute on an image without it (found by the wire fuzzer:
// the second TopicRecord's apply error stopped the metadata quorum).
func TestCancelledCreateStillSerializes(t *testing.T) {
	pub := metadata.NewPublisher()
	q := newLateQuorum(pub)
	defer close(q.queue)
	c := New(q, pub, Options{NumPartitions: 1, DefaultReplicationFactor: 1})
	if err := c.Register(context.Background(), metadata.BrokerRecord{ID: 1, Host: "localhost", Port: 9092}); err != nil {
		t.Fatal(err)
	}
	create := func(ctx context.Context) ([]TopicResult, error) {
		req := kmsg.NewPtrCreateTopicsRequest()
		rt := kmsg.NewCreateTopicsRequestTopic()
		rt.Topic, rt.NumPartitions, rt.ReplicationFactor = "x", 1, 1
		req.Topics = append(req.Topics, rt)
		return c.CreateTopics(ctx, req)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
	defer cancel()
	if _, err := create(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("first create: %v", err)
	}
	res, err := create(context.Background())
	if err != nil {
		t.Fatalf("second create: %v", err)
	}
	if !errors.Is(res[0].Err, kerr.TopicAlreadyExists) {
		t.Errorf("second create: %v, want TOPIC_ALREADY_EXISTS", res[0].Err)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.errs) > 0 {
		t.Fatalf("an entry failed to apply: %v", q.errs)
	}
}
