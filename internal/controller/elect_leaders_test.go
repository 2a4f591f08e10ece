package controller

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/metadata"
	"github.com/sluice-io/sluice/internal/model"
)

func electReq(typ int8, topic string, parts ...int32) *kmsg.ElectLeadersRequest {
	req := kmsg.NewPtrElectLeadersRequest()
	req.ElectionType = typ
	if topic != "" {
		rt := kmsg.NewElectLeadersRequestTopic()
		rt.Topic, rt.Partitions = topic, parts
		req.Topics = append(req.Topics, rt)
	}
	return req
}

// setPartition overwrites partition p of topic t.
func (tc *testCluster) setPartition(t *testing.T, id model.TopicID, p int32, leader model.NodeID, isr ...model.NodeID) {
	t.Helper()
	cur := tc.image().TopicIDs[id].Partitions[p]
	rec := metadata.PartitionRecord{TopicID: id, Partition: p, Leader: leader, LeaderEpoch: cur.LeaderEpoch + 1, Epoch: cur.Epoch + 1,
		Replicas: cur.Replicas, ISR: isr}
	data, err := metadata.EncodeEntry([]metadata.Record{{Partition: &rec}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tc.q.Propose(context.Background(), data); err != nil {
		t.Fatal(err)
	}
}

// Preferred elections move leadership back to the first replica when it
// is in sync and live; unclean ones give a leaderless partition its first
// live replica, outside the ISR if need be.
func TestElectLeaders(t *testing.T) {
	tc := newTestCluster(t, Options{NumPartitions: 1, DefaultReplicationFactor: 1}, 1, 2, 3)
	id := tc.createTopic(t, "e", []int32{1, 2, 3}, []int32{2, 3, 1}, []int32{3, 1, 2})
	tc.setPartition(t, id, 0, 2, 1, 2, 3) // preferred 1 in sync, not leading
	tc.setPartition(t, id, 1, 3, 3)       // preferred 2 out of sync
	ctx := context.Background()

	res, err := tc.c.ElectLeaders(ctx, electReq(ElectPreferred, "e", 0, 1, 2, 7))
	if err != nil {
		t.Fatal(err)
	}
	want := []*kerr.Error{nil, kerr.PreferredLeaderNotAvailable, kerr.ElectionNotNeeded, kerr.UnknownTopicOrPartition}
	for i, r := range res {
		if r.Err != want[i] {
			t.Errorf("preferred election of e/%d: %v, want %v", r.Partition, r.Err, want[i])
		}
	}
	p0 := tc.image().Topics["e"].Partitions[0]
	if p0.Leader != 1 || p0.LeaderEpoch != 2 {
		t.Fatalf("e/0 after the preferred election: leader %d epoch %d, want 1 and 2", p0.Leader, p0.LeaderEpoch)
	}

	// e/1 loses its leader and its last ISR member (3 fenced, ISR {3}).
	tc.register(t, 3, true)
	tc.setPartition(t, id, 1, -1, 3)
	res, err = tc.c.ElectLeaders(ctx, electReq(ElectUnclean, "e", 0, 1))
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Err != kerr.ElectionNotNeeded || res[1].Err != nil {
		t.Fatalf("unclean elections: %+v", res)
	}
	p1 := tc.image().Topics["e"].Partitions[1]
	if p1.Leader != 2 || len(p1.ISR) != 1 || p1.ISR[0] != 2 {
		t.Fatalf("e/1 after the unclean election: leader %d ISR %v, want 2 and [2]", p1.Leader, p1.ISR)
	}
}

// With unclean.leader.election.enable, a partition whose last live ISR
// member is fenced goes to its first live replica, with an ISR of itself;
// without it, it stays leaderless until an ISR member returns. Turned on
// later, the periodic check elects the leaderless partitions.
func TestUncleanElectionOnFence(t *testing.T) {
	unclean := map[string]bool{}
	tc := newTestCluster(t, Options{NumPartitions: 1, DefaultReplicationFactor: 1,
		UncleanLeaderElection: func(_ *metadata.Image, t *metadata.Topic) bool { return unclean[t.Name] }}, 1, 2, 3)
	onID := tc.createTopic(t, "on", []int32{1, 2, 3})
	offID := tc.createTopic(t, "off", []int32{1, 2, 3})
	unclean["on"] = true
	tc.setPartition(t, onID, 0, 1, 1) // the ISR shrank to the leader alone
	tc.setPartition(t, offID, 0, 1, 1)

	s := NewSessions(tc.c, 9, time.Minute, slog.New(slog.DiscardHandler))
	if err := s.Shutdown(context.Background(), 1, -1); err != nil {
		t.Fatal(err)
	}
	on, off := tc.image().Topics["on"].Partitions[0], tc.image().Topics["off"].Partitions[0]
	if on.Leader != 2 || len(on.ISR) != 1 || on.ISR[0] != 2 {
		t.Fatalf("unclean topic after its last ISR member left: leader %d ISR %v, want 2 and [2]", on.Leader, on.ISR)
	}
	if off.Leader != -1 {
		t.Fatalf("clean topic after its last ISR member left: leader %d, want -1", off.Leader)
	}
	unclean["off"] = true
	if _, err := tc.c.run(context.Background(), tc.c.uncleanRecords); err != nil {
		t.Fatal(err)
	}
	if off = tc.image().Topics["off"].Partitions[0]; off.Leader != 2 || len(off.ISR) != 1 {
		t.Fatalf("after turning unclean election on: leader %d ISR %v, want 2 and [2]", off.Leader, off.ISR)
	}
	uncleanLeaderRecovers(t, tc, onID)
}

// uncleanLeaderRecovers checks KIP-704 on a partition just elected
// uncleanly (leader 2, ISR [2]): it is recovering, nothing joins its ISR
// until the leader proposes its ISR of itself as recovered, and a
// recovered partition cannot go back to recovering.
func uncleanLeaderRecovers(t *testing.T, tc *testCluster, id model.TopicID) {
	t.Helper()
	ctx := context.Background()
	propose := func(recovering bool, isr ...model.NodeID) *kerr.Error {
		t.Helper()
		p := tc.image().TopicIDs[id].Partitions[0]
		code, err := tc.c.AlterPartition(ctx, ISRUpdate{Broker: 2, TopicID: id, LeaderEpoch: p.LeaderEpoch,
			PartitionEpoch: p.Epoch, ISR: isr, Recovering: recovering})
		if err != nil {
			t.Fatal(err)
		}
		return code
	}
	if p := tc.image().TopicIDs[id].Partitions[0]; !p.Recovering {
		t.Fatalf("after an unclean election: %+v, want recovering", p)
	}
	if code := propose(false, 2, 3); code != kerr.InvalidRequest {
		t.Fatalf("an ISR expansion while recovering: %v, want INVALID_REQUEST", code)
	}
	if code := propose(false, 2); code != nil {
		t.Fatalf("the end of the recovery: %v", code)
	}
	if p := tc.image().TopicIDs[id].Partitions[0]; p.Recovering {
		t.Fatalf("after the recovery: %+v", p)
	}
	if code := propose(true, 2); code != kerr.InvalidRequest {
		t.Fatalf("back to recovering: %v, want INVALID_REQUEST", code)
	}
	if code := propose(false, 2, 3); code != nil {
		t.Fatalf("an ISR expansion once recovered: %v", code)
	}
}
