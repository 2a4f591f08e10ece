package node_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/controller"
	"github.com/sluice-io/sluice/internal/metadata"
	"github.com/sluice-io/sluice/internal/node"
	"github.com/sluice-io/sluice/internal/node/nodetest"
)

// Three combined nodes, all voters, and a broker that follows them: the
// quorum elects an active controller, which DescribeQuorum names; when
// its process dies, another voter becomes active, admin requests sent to
// any survivor (and to the broker) are carried out, every node ends with
// the same metadata image, records acknowledged before and after the
// loss are all readable, and the dead node, restarted, catches up.
func TestActiveControllerFailover(t *testing.T) {
	sessions := func(o *node.Options) {
		o.SessionTimeout, o.HeartbeatInterval = 2*time.Second, 200*time.Millisecond
	}
	q := nodetest.StartQuorum(t, 3, sessions)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	obs := nodetest.Start(t, sessions, func(o *node.Options) {
		o.NodeID, o.Handler.NodeID, o.Handler.ControllerID = 4, 4, 4
		o.ControllerVoters = q.ControllerAddrs()
	})
	active := q.Active(ctx)
	checkQuorum(ctx, t, q, active, 4)
	other := (active + 1) % 3
	adm := kadm.NewClient(nodetest.Client(t, q.Nodes[other]))
	if _, err := adm.CreateTopic(ctx, 3, 3, nil, "before"); err != nil {
		t.Fatal(err)
	}
	produce(ctx, t, q.Nodes[other], "before", 300)

	q.Crash(active)
	next := q.Active(ctx)
	if next == active {
		t.Fatalf("node %d still active after its crash", active+1)
	}
	// A survivor that is not active passes the request on; one that is
	// carries it out itself.
	checkQuorum(ctx, t, q, next, 4)
	for i, n := range append(slices.Clone(q.Nodes), obs) {
		if n == nil {
			continue
		}
		name := fmt.Sprintf("after-%d", i+1)
		if _, err := kadm.NewClient(nodetest.Client(t, n)).CreateTopic(ctx, 2, 2, nil, name); err != nil {
			t.Fatalf("create %s through node %d after the controller died: %v", name, i+1, err)
		}
	}
	produce(ctx, t, q.Nodes[next], "before", 300)
	consume(ctx, t, q.Nodes[next], "before", 600)

	restarted := q.Restart(active)
	want := q.Nodes[next].Metadata().Current()
	for i, n := range append(slices.Clone(q.Nodes), obs) {
		got := waitIndex(ctx, t, n.Metadata(), want.Index)
		if !slices.Equal(got.TopicNames(), want.TopicNames()) || got.Topics["after-1"] != nil && got.Topics["after-1"].ID != want.Topics["after-1"].ID {
			t.Fatalf("node %d has topics %v, the active controller %v", i+1, got.TopicNames(), want.TopicNames())
		}
	}
	if restarted.ActiveController() && q.Nodes[next].ActiveController() {
		t.Fatal("two active controllers")
	}
}

// checkQuorum asks every live voter's CONTROLLER listener for
// DescribeQuorum: the leader (node index leader) answers with the three
// voters, itself at the high watermark, and the observer; the others
// answer NOT_LEADER_OR_FOLLOWER naming it.
func checkQuorum(ctx context.Context, t *testing.T, q *nodetest.Quorum, leader int, observer int32) {
	t.Helper()
	for i, n := range q.Nodes {
		if n == nil {
			continue
		}
		cl, err := kgo.NewClient(kgo.SeedBrokers(n.ControllerAddr()))
		if err != nil {
			t.Fatal(err)
		}
		req := controller.NewDescribeQuorumRequest()
		m, err := cl.SeedBrokers()[0].Request(ctx, req)
		cl.Close()
		if err != nil {
			t.Fatal(err)
		}
		resp := m.(*kmsg.DescribeQuorumResponse)
		p := resp.Topics[0].Partitions[0]
		if p.LeaderID != int32(leader+1) || len(resp.Nodes) != 3 {
			t.Fatalf("node %d: DescribeQuorum leader %d with %d nodes, want leader %d of 3", i+1, p.LeaderID, len(resp.Nodes), leader+1)
		}
		if i != leader {
			if p.ErrorCode != kerr.NotLeaderForPartition.Code {
				t.Fatalf("node %d does not lead: DescribeQuorum code %d", i+1, p.ErrorCode)
			}
			continue
		}
		if p.ErrorCode != 0 || len(p.CurrentVoters) != 3 || p.CurrentVoters[leader].LogEndOffset != p.HighWatermark {
			t.Fatalf("leader's DescribeQuorum: code %d, voters %+v, high watermark %d", p.ErrorCode, p.CurrentVoters, p.HighWatermark)
		}
		if !slices.ContainsFunc(p.Observers, func(o kmsg.DescribeQuorumResponseTopicPartitionReplicaState) bool {
			return o.ReplicaID == observer
		}) {
			t.Fatalf("observer %d not in %+v", observer, p.Observers)
		}
	}
}

// waitIndex waits until pub has applied index and returns its image.
func waitIndex(ctx context.Context, t *testing.T, pub *metadata.Publisher, index uint64) *metadata.Image {
	t.Helper()
	for {
		changed := pub.Changed()
		if im := pub.Current(); im.Index >= index {
			return im
		}
		select {
		case <-changed:
		case <-ctx.Done():
			t.Fatalf("metadata stuck at %d, want %d", pub.Current().Index, index)
		}
	}
}

// produce writes n records to topic through node n with acks=all.
func produce(ctx context.Context, t *testing.T, n *node.Node, topic string, count int, opts ...kgo.Opt) {
	t.Helper()
	cl := nodetest.Client(t, n, append([]kgo.Opt{kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.RoundRobinPartitioner())}, opts...)...)
	for i := range count {
		cl.Produce(ctx, &kgo.Record{Value: []byte(fmt.Sprint(i))}, func(_ *kgo.Record, err error) {
			if err != nil {
				t.Error(err)
			}
		})
	}
	if err := cl.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

// consume reads topic from the start through n and fails unless it holds
// exactly want records.
func consume(ctx context.Context, t *testing.T, n *node.Node, topic string, want int) {
	t.Helper()
	cl := nodetest.Client(t, n, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	got := 0
	for got < want {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("read %d of %d records: %v", got, want, err)
		}
		fs.EachError(func(_ string, _ int32, err error) { t.Logf("fetch: %v", err) })
		got += fs.NumRecords()
	}
	if got != want {
		t.Fatalf("read %d records, want %d", got, want)
	}
}

// With two of three voters gone the quorum cannot commit: controller
// work fails with a retriable error within the request's timeout, nobody
// is fenced, and a partition whose ISR is intact on the survivor keeps
// taking and serving records. Once the voters return, controller work
// resumes.
func TestQuorumLossKeepsDataPlane(t *testing.T) {
	q := nodetest.StartQuorum(t, 3, func(o *node.Options) {
		o.SessionTimeout, o.HeartbeatInterval = 2*time.Second, 200*time.Millisecond
	})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	survivor := q.Nodes[0]
	cl := nodetest.Client(t, survivor)
	req := kmsg.NewPtrCreateTopicsRequest()
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = "solo", -1, -1
	ra := kmsg.NewCreateTopicsRequestTopicReplicaAssignment()
	ra.Replicas = []int32{1}
	rt.ReplicaAssignment = append(rt.ReplicaAssignment, ra)
	req.Topics = append(req.Topics, rt)
	if resp, err := req.RequestWith(ctx, cl); err != nil || resp.Topics[0].ErrorCode != 0 {
		t.Fatalf("create solo: %v %+v", err, resp)
	}
	q.Crash(1)
	// Two voters are left: the controller sees broker 2 dead and fences
	// it at once (liveness probe); the next crash ends the quorum.
	awaitFenced(ctx, t, survivor, 2)
	q.Crash(2)

	// Not idempotent: a first producer id needs a block from the
	// controller, as in Kafka.
	produce(ctx, t, survivor, "solo", 100, kgo.DisableIdempotentWrite())
	consume(ctx, t, survivor, "solo", 100)

	create := kmsg.NewPtrCreateTopicsRequest()
	ct := kmsg.NewCreateTopicsRequestTopic()
	ct.Topic, ct.NumPartitions, ct.ReplicationFactor = "no-quorum", 1, 1
	create.Topics, create.TimeoutMillis = append(create.Topics, ct), 2000
	start := time.Now()
	resp, err := create.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	if code := resp.Topics[0].ErrorCode; code != kerr.NotController.Code && code != kerr.RequestTimedOut.Code {
		t.Fatalf("CreateTopics without a quorum: code %d (%v), want NOT_CONTROLLER or REQUEST_TIMED_OUT", code, kerr.ErrorForCode(code))
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("CreateTopics without a quorum answered after %v; its timeout was 2 s", took)
	}
	if im := survivor.Metadata().Current(); im.Brokers[1].Fenced || im.Brokers[3].Fenced {
		t.Fatal("a broker was fenced without a quorum")
	}

	q.Restart(1)
	q.Restart(2)
	// RF 3 needs broker 2 unfenced again.
	awaitUnfenced(ctx, t, survivor, 1, 2, 3)
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 1, 3, nil, "with-quorum"); err != nil {
		t.Fatalf("create after the quorum returned: %v", err)
	}
}

// kafka-leader-election --election-type PREFERRED through any broker: a
// partition whose preferred replica died and came back in sync is led by
// it again.
func TestElectPreferredLeader(t *testing.T) {
	q := nodetest.StartQuorum(t, 3, func(o *node.Options) {
		o.SessionTimeout, o.HeartbeatInterval = 2*time.Second, 200*time.Millisecond
	})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if err := createAssigned(ctx, t, q.Nodes[0], "pref", []int32{2, 1, 3}); err != nil {
		t.Fatal(err)
	}
	q.Crash(1)
	im := waitPartition(ctx, t, q.Nodes[0], func(p metadata.Partition) bool { return p.Leader != 2 })
	if l := im.Topics["pref"].Partitions[0].Leader; l != 1 {
		t.Fatalf("leader %d after node 2 died, want 1 (first in sync in replica order)", l)
	}
	q.Restart(1)
	waitPartition(ctx, t, q.Nodes[0], func(p metadata.Partition) bool { return len(p.ISR) == 3 })

	adm := kadm.NewClient(nodetest.Client(t, q.Nodes[2])) // a broker that forwards
	res, err := adm.ElectLeaders(ctx, kadm.ElectPreferredReplica, kadm.TopicsSet{"pref": {0: {}}})
	if err != nil {
		t.Fatal(err)
	}
	if r := res["pref"][0]; r.Err != nil {
		t.Fatalf("preferred election: %v", r.Err)
	}
	waitPartition(ctx, t, q.Nodes[2], func(p metadata.Partition) bool { return p.Leader == 2 })
	res, err = adm.ElectLeaders(ctx, kadm.ElectPreferredReplica, kadm.TopicsSet{"pref": {0: {}}})
	if err != nil || !errors.Is(res["pref"][0].Err, kerr.ElectionNotNeeded) {
		t.Fatalf("second preferred election: %v, %+v; want ELECTION_NOT_NEEDED", err, res)
	}
}

// waitPartition waits until pref/0 in n's image satisfies ok.
func waitPartition(ctx context.Context, t *testing.T, n *node.Node, ok func(metadata.Partition) bool) *metadata.Image {
	t.Helper()
	return waitTopicPartition(ctx, t, n, "pref", ok)
}

// waitTopicPartition waits until partition 0 of topic passes ok in n's
// image.
func waitTopicPartition(ctx context.Context, t *testing.T, n *node.Node, topic string, ok func(metadata.Partition) bool) *metadata.Image {
	t.Helper()
	for {
		changed := n.Metadata().Changed()
		im := n.Metadata().Current()
		if tp := im.Topics[topic]; tp != nil && ok(tp.Partitions[0]) {
			return im
		}
		select {
		case <-changed:
		case <-ctx.Done():
			t.Fatalf("%s/0 stays %+v", topic, n.Metadata().Current().Topics[topic])
		}
	}
}
