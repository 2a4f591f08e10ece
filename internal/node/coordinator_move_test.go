package node_test

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-io/sluice/internal/node"
	"github.com/sluice-io/sluice/internal/node/nodetest"
)

// A group's committed offsets survive the crash of its coordinator's
// node: the new leader of its __consumer_offsets partition (replication
// factor 3) loads them and answers OffsetFetch with them.
func TestGroupOffsetsSurviveCoordinatorCrash(t *testing.T) {
	q := nodetest.StartQuorum(t, 3, func(o *node.Options) {
		o.SessionTimeout, o.HeartbeatInterval = 2*time.Second, 200*time.Millisecond
		o.Groups.OffsetsTopicReplicationFactor = 3
	})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	adm := kadm.NewClient(nodetest.Client(t, q.Nodes[0]))
	if _, err := adm.CreateTopic(ctx, 3, 3, nil, "gt"); err != nil {
		t.Fatal(err)
	}
	for _, n := range q.Nodes {
		waitIndex(ctx, t, n.Metadata(), q.Nodes[0].Metadata().Current().Index)
	}
	offsets := kadm.Offsets{}
	for p := range int32(3) {
		offsets.Add(kadm.Offset{Topic: "gt", Partition: p, At: int64(100 + p), LeaderEpoch: -1})
	}
	if err := adm.CommitAllOffsets(ctx, "g", offsets); err != nil {
		t.Fatal(err)
	}
	co := adm.FindGroupCoordinators(ctx, "g")["g"]
	if co.Err != nil {
		t.Fatal(co.Err)
	}
	q.Crash(int(co.NodeID) - 1)
	var live *node.Node
	for _, n := range q.Nodes {
		if n != nil {
			live = n
		}
	}
	sadm := kadm.NewClient(nodetest.Client(t, live, kgo.MetadataMinAge(100*time.Millisecond)))
	for {
		now := sadm.FindGroupCoordinators(ctx, "g")["g"]
		if now.Err == nil && now.NodeID != co.NodeID {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the coordinator did not move from node %d: %+v", co.NodeID, now)
		case <-live.Metadata().Changed():
		case <-time.After(100 * time.Millisecond): // the new leader's shard loading: no event to wait on
		}
	}
	got, err := sadm.FetchOffsets(ctx, "g")
	if err != nil {
		t.Fatal(err)
	}
	for p := range int32(3) {
		if o, ok := got.Lookup("gt", p); !ok || o.At != int64(100+p) {
			t.Fatalf("partition %d: offset %+v (found %v) after the coordinator crashed, want %d", p, o, ok, 100+p)
		}
	}
}
