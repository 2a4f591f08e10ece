package node_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/sluice-io/sluice/internal/metadata"
	"github.com/sluice-io/sluice/internal/model"
	"github.com/sluice-io/sluice/internal/node"
	"github.com/sluice-io/sluice/internal/node/nodetest"
)

// KIP-704 end to end: a partition whose only ISR member died is elected
// uncleanly (ElectLeaders) to its other replica, which leads recovering
// with an ISR of itself, rebuilds its producer and transaction state and
// tells the controller it recovered; the partition then takes writes and
// its old leader, back, truncates and rejoins the ISR.
func TestUncleanLeaderRecovers(t *testing.T) {
	voter := nodetest.Start(t, asVoter, func(o *node.Options) { o.SessionTimeout = time.Minute })
	hb := func(o *node.Options) { o.HeartbeatInterval = 100 * time.Millisecond }
	b2 := nodetest.StartRestartable(t, following(voter, 2), hb, shortLag)
	b3 := nodetest.StartRestartable(t, following(voter, 3), hb, shortLag)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	awaitUnfenced(ctx, t, voter, 2, 3)
	if err := createAssigned(ctx, t, voter, "rec", []int32{2, 3}); err != nil {
		t.Fatal(err)
	}
	produce(ctx, t, voter, "rec", 20)
	b3.Stop() // leaves the ISR at once (controlled shutdown)
	waitTopicPartition(ctx, t, voter, "rec", func(p metadata.Partition) bool { return slices.Equal(p.ISR, []model.NodeID{2}) })
	produce(ctx, t, voter, "rec", 30) // only on 2
	if err := b2.Node.Crash(); err != nil {
		t.Fatal(err)
	}
	b2.Node = nil
	waitTopicPartition(ctx, t, voter, "rec", func(p metadata.Partition) bool { return p.Leader == -1 })
	b3.Restart()
	awaitUnfenced(ctx, t, voter, 3)

	res, err := kadm.NewClient(nodetest.Client(t, voter)).ElectLeaders(ctx, kadm.ElectLiveReplica, kadm.TopicsSet{"rec": {0: {}}})
	if err != nil {
		t.Fatal(err)
	}
	if r := res["rec"][0]; r.Err != nil {
		t.Fatalf("unclean election: %v", r.Err)
	}
	// The controller's record says recovering; the leader's proposal ends
	// it (waited for, so the first image may already show it recovered).
	im := waitTopicPartition(ctx, t, voter, "rec", func(p metadata.Partition) bool { return p.Leader == 3 && !p.Recovering })
	if p := im.Topics["rec"].Partitions[0]; !slices.Equal(p.ISR, []model.NodeID{3}) {
		t.Fatalf("after the recovery: ISR %v, want [3]", p.ISR)
	}
	produce(ctx, t, voter, "rec", 10) // 20 survived on 3
	b2.Restart()
	waitTopicPartition(ctx, t, voter, "rec", func(p metadata.Partition) bool { return slices.Equal(p.ISR, []model.NodeID{3, 2}) })
	consume(ctx, t, voter, "rec", 30)
}
