package node_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/metadata"
	"github.com/sluice-io/sluice/internal/model"
	"github.com/sluice-io/sluice/internal/node"
	"github.com/sluice-io/sluice/internal/node/nodetest"
)

// Eligible leader replicas (KIP-966) end to end: a partition on brokers
// 2, 3, 4 with min.insync.replicas 2 loses 4 (ISR 2,3), then 3, which
// becomes eligible (ISR 2 is below min ISR: the HW stands still), then
// its leader 2. Broker 3 comes back first and leads at once, with every
// acknowledged record; without the ELR the partition would wait for 2
// (or lose records to an unclean election).
func TestEligibleLeaderReplicaLeadsAfterTheISRIsGone(t *testing.T) {
	voter := nodetest.Start(t, asVoter, func(o *node.Options) { o.SessionTimeout = time.Minute })
	hb := func(o *node.Options) { o.HeartbeatInterval = 100 * time.Millisecond }
	b2 := nodetest.Start(t, following(voter, 2), hb)
	b3 := nodetest.StartRestartable(t, following(voter, 3), hb)
	b4 := nodetest.StartRestartable(t, following(voter, 4), hb)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	awaitUnfenced(ctx, t, voter, 2, 3, 4)

	req := kmsg.NewPtrCreateTopicsRequest()
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = "elr", -1, -1
	ra := kmsg.NewCreateTopicsRequestTopicReplicaAssignment()
	ra.Replicas = []int32{2, 3, 4}
	rt.ReplicaAssignment = append(rt.ReplicaAssignment, ra)
	rc := kmsg.NewCreateTopicsRequestTopicConfig()
	rc.Name, rc.Value = "min.insync.replicas", kmsg.StringPtr("2")
	rt.Configs = append(rt.Configs, rc)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, nodetest.Client(t, voter))
	if err != nil {
		t.Fatal(err)
	}
	if err := kerr.ErrorForCode(resp.Topics[0].ErrorCode); err != nil {
		t.Fatal(err)
	}
	produce(ctx, t, voter, "elr", 200)

	if err := b4.Node.Crash(); err != nil {
		t.Fatal(err)
	}
	b4.Node = nil
	waitTopicPartition(ctx, t, voter, "elr", func(p metadata.Partition) bool {
		return slices.Equal(p.ISR, []model.NodeID{2, 3}) && len(p.ELR) == 0
	})
	b3.Stop()
	waitTopicPartition(ctx, t, voter, "elr", func(p metadata.Partition) bool {
		return slices.Equal(p.ISR, []model.NodeID{2}) && slices.Equal(p.ELR, []model.NodeID{3})
	})
	dtp := describeTopicPartitions(ctx, t, voter, 10, nil, "elr")
	if got := dtp.Topics[0].Partitions[0].EligibleLeaderReplicas; !slices.Equal(got, []int32{3}) {
		t.Fatalf("DescribeTopicPartitions ELR %v, want [3]", got)
	}
	b2.Crash()
	waitTopicPartition(ctx, t, voter, "elr", func(p metadata.Partition) bool { return p.Leader == -1 })

	n3 := b3.Restart()
	im := waitTopicPartition(ctx, t, voter, "elr", func(p metadata.Partition) bool { return p.Leader == 3 })
	if p := im.Topics["elr"].Partitions[0]; !slices.Equal(p.ISR, []model.NodeID{3}) || !slices.Equal(p.ELR, []model.NodeID{2}) {
		t.Fatalf("after 3 took over: ISR %v ELR %v, want [3] and [2]", p.ISR, p.ELR)
	}
	if end := n3.Partition(model.TopicPartition{Topic: "elr", Partition: 0}).LogEndOffset(); end < 200 {
		t.Fatalf("the eligible leader's log ends at %d, before the 200 acknowledged records", end)
	}
	// Its ISR of one is below min ISR, so its high watermark stands (as
	// in Kafka) until a second replica catches up: 4 comes back.
	b4.Restart()
	waitTopicPartition(ctx, t, voter, "elr", func(p metadata.Partition) bool { return len(p.ISR) >= 2 })
	consume(ctx, t, voter, "elr", 200)
}
