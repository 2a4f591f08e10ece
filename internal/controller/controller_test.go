package controller

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/metadata"
	"github.com/sluice-io/sluice/internal/model"
)

// memQuorum is an in-memory Quorum: it applies every proposed entry to
// pub synchronously, as a one-voter raft does once the entry commits.
type memQuorum struct {
	pub *metadata.Publisher

	mu      sync.Mutex
	index   uint64 // guarded by mu
	entries int    // entries applied; guarded by mu
}

func (q *memQuorum) LeaderTerm() (uint64, bool) { return 1, true }

func (q *memQuorum) ProposeInTerm(ctx context.Context, _ uint64, data []byte) (uint64, error) {
	return q.Propose(ctx, data)
}

func (q *memQuorum) Propose(ctx context.Context, data []byte) (uint64, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	q.index++
	if err := q.pub.Apply(q.index, data); err != nil {
		return 0, err
	}
	q.entries++
	return q.index, nil
}

func (q *memQuorum) applied() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.entries
}

// testCluster is a controller over an in-memory quorum.
type testCluster struct {
	c   *Controller
	q   *memQuorum
	pub *metadata.Publisher
}

// newTestCluster registers brokers (ids 1..n unless given) and returns
// the controller.
func newTestCluster(t *testing.T, opts Options, brokers ...model.NodeID) *testCluster {
	t.Helper()
	pub := metadata.NewPublisher()
	q := &memQuorum{pub: pub}
	tc := &testCluster{c: New(q, pub, opts), q: q, pub: pub}
	for _, id := range brokers {
		tc.register(t, id, false)
	}
	return tc
}

func (tc *testCluster) register(t *testing.T, id model.NodeID, fenced bool) {
	t.Helper()
	b := metadata.BrokerRecord{ID: id, Host: "localhost", Port: 9000 + int32(id), Fenced: fenced}
	if err := tc.c.Register(context.Background(), b); err != nil {
		t.Fatalf("register %d: %v", id, err)
	}
}

// createTopic creates a topic with an explicit assignment (one replica
// list per partition) and returns its id.
func (tc *testCluster) createTopic(t *testing.T, name string, assignment ...[]int32) model.TopicID {
	t.Helper()
	req := kmsg.NewPtrCreateTopicsRequest()
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = name, -1, -1
	for p, reps := range assignment {
		a := kmsg.NewCreateTopicsRequestTopicReplicaAssignment()
		a.Partition, a.Replicas = int32(p), reps
		rt.ReplicaAssignment = append(rt.ReplicaAssignment, a)
	}
	req.Topics = append(req.Topics, rt)
	res, err := tc.c.CreateTopics(context.Background(), req)
	if err != nil || res[0].Err != nil {
		t.Fatalf("create topic %s: %v %v %s", name, err, res[0].Err, res[0].Message)
	}
	return res[0].ID
}

func (tc *testCluster) image() *metadata.Image { return tc.pub.Current() }

func TestMemQuorumCancelled(t *testing.T) {
	tc := newTestCluster(t, Options{}, 1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := kmsg.NewPtrDeleteTopicsRequest()
	tc.createTopic(t, "a", []int32{1})
	req.TopicNames = []string{"a"}
	if _, err := tc.c.DeleteTopics(ctx, req); err == nil {
		t.Fatal("delete with a cancelled context: want an error")
	}
	if tc.image().Topics["a"] == nil {
		t.Fatal("topic deleted by a cancelled request")
	}
}

// errName renders a result's error for comparisons.
func errName(e *kerr.Error) string {
	if e == nil {
		return "OK"
	}
	return e.Message
}

func ids(ns ...int32) []model.NodeID {
	out := make([]model.NodeID, len(ns))
	for i, n := range ns {
		out[i] = model.NodeID(n)
	}
	return out
}

func fmtIDs(ns []model.NodeID) string { return fmt.Sprint(ns) }
