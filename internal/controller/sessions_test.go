package controller

import (
	"slices"
	"testing"

	"github.com/sluice-io/sluice/internal/metadata"
	"github.com/sluice-io/sluice/internal/model"
)

// fenceImage has brokers 1-3 and one topic whose partitions are led by
// 2 (ISR 2,3,1), by 1 (ISR 1,2) and by 2 alone (ISR 2).
func fenceImage(t *testing.T) *metadata.Image {
	t.Helper()
	return brokersAndTopic(t,
		metadata.PartitionRecord{Leader: 2, Replicas: []model.NodeID{2, 3, 1}, ISR: []model.NodeID{2, 3, 1}},
		metadata.PartitionRecord{Leader: 1, Replicas: []model.NodeID{1, 2}, ISR: []model.NodeID{1, 2}},
		metadata.PartitionRecord{Leader: 2, Replicas: []model.NodeID{2, 3}, ISR: []model.NodeID{2}})
}

// brokersAndTopic is an image of brokers 1-3 and topic t with parts as
// its partitions 0, 1, ...
func brokersAndTopic(t *testing.T, parts ...metadata.PartitionRecord) *metadata.Image {
	t.Helper()
	id := model.NewTopicID()
	recs := []metadata.Record{{Topic: &metadata.TopicRecord{Name: "t", ID: id}}}
	for n := model.NodeID(1); n <= 3; n++ {
		recs = append(recs, metadata.Record{Broker: &metadata.BrokerRecord{ID: n, Host: "h", Port: 9000 + int32(n)}})
	}
	for i, p := range parts {
		p.TopicID, p.Partition = id, int32(i)
		recs = append(recs, metadata.Record{Partition: &p})
	}
	im, err := metadata.Empty().Apply(1, recs)
	if err != nil {
		t.Fatal(err)
	}
	return im
}

// cleanPolicy is no unclean election and a min ISR of minISR.
func cleanPolicy(minISR int) policy {
	return policy{unclean: func(*metadata.Topic) bool { return false }, minISR: func(*metadata.Topic) int { return minISR }}
}

func TestFenceMovesLeadershipAndISR(t *testing.T) {
	im := fenceImage(t)
	next, err := im.Apply(2, fenceRecords(im, 2, cleanPolicy(1)))
	if err != nil {
		t.Fatal(err)
	}
	ps := next.Topics["t"].Partitions
	want := []metadata.Partition{
		{Leader: 3, LeaderEpoch: 1, Epoch: 1, Replicas: []model.NodeID{2, 3, 1}, ISR: []model.NodeID{3, 1}},
		{Leader: 1, LeaderEpoch: 0, Epoch: 1, Replicas: []model.NodeID{1, 2}, ISR: []model.NodeID{1}},
		{Leader: -1, LeaderEpoch: 1, Epoch: 1, Replicas: []model.NodeID{2, 3}, ISR: []model.NodeID{2}}, // the last member stays
	}
	for i, w := range want {
		p := ps[i]
		if p.Leader != w.Leader || p.LeaderEpoch != w.LeaderEpoch || p.Epoch != w.Epoch || !slices.Equal(p.ISR, w.ISR) {
			t.Errorf("partition %d after fencing 2: %+v, want %+v", i, p, w)
		}
	}
	if !next.Brokers[2].Fenced || len(fenceRecords(next, 2, cleanPolicy(1))) != 0 {
		t.Fatal("broker 2 not fenced, or fenced twice")
	}
	back, err := next.Apply(3, unfenceRecords(next, 2, cleanPolicy(1)))
	if err != nil {
		t.Fatal(err)
	}
	if p := back.Topics["t"].Partitions[2]; back.Brokers[2].Fenced || p.Leader != 2 || p.LeaderEpoch != 2 {
		t.Fatalf("after unfencing 2: fenced %v, leaderless partition now %+v", back.Brokers[2].Fenced, p)
	}
	if p := back.Topics["t"].Partitions[0]; p.Leader != 3 {
		t.Fatalf("unfencing moved a led partition back: %+v", p)
	}
}
