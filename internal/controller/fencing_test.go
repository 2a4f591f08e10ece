package controller

import (
	"slices"
	"testing"

	"github.com/sluice-io/sluice/internal/metadata"
	"github.com/sluice-io/sluice/internal/model"
)

// elrImage has brokers 1-3 and topic t with one partition led by 1 on
// replicas 1,2,3, all in sync.
func elrImage(t *testing.T) *metadata.Image {
	t.Helper()
	return brokersAndTopic(t, metadata.PartitionRecord{Leader: 1, Replicas: []model.NodeID{1, 2, 3}, ISR: []model.NodeID{1, 2, 3}})
}

// step applies recs and checks the partition after them.
func step(t *testing.T, im *metadata.Image, what string, recs []metadata.Record, leader model.NodeID, isr, elr []model.NodeID) *metadata.Image {
	t.Helper()
	next, err := im.Apply(im.Index+1, recs)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	p := next.Topics["t"].Partitions[0]
	if p.Leader != leader || !slices.Equal(p.ISR, isr) || !slices.Equal(p.ELR, elr) {
		t.Fatalf("after %s: leader %d ISR %v ELR %v, want %d %v %v", what, p.Leader, p.ISR, p.ELR, leader, isr, elr)
	}
	return next
}

// KIP-966 with min ISR 2 on three replicas: the broker that leaves an ISR
// already at min ISR is not eligible, the one that leaves it below min
// ISR is (the HW stood still since); with every ISR member gone the ELR
// member that returns first leads, and the old last ISR member becomes
// eligible in its turn; an ISR back at min ISR empties the ELR.
func TestEligibleLeaderReplicas(t *testing.T) {
	pol := cleanPolicy(2)
	im := elrImage(t)
	im = step(t, im, "fencing 3", fenceRecords(im, 3, pol), 1, []model.NodeID{1, 2}, nil)
	im = step(t, im, "fencing 2", fenceRecords(im, 2, pol), 1, []model.NodeID{1}, []model.NodeID{2})
	im = step(t, im, "fencing 1", fenceRecords(im, 1, pol), -1, []model.NodeID{1}, []model.NodeID{2})
	im = step(t, im, "3 back", unfenceRecords(im, 3, pol), -1, []model.NodeID{1}, []model.NodeID{2})
	im = step(t, im, "2 back", unfenceRecords(im, 2, pol), 2, []model.NodeID{2}, []model.NodeID{1})
	p := im.Topics["t"].Partitions[0]
	if p.LeaderEpoch != 2 {
		t.Fatalf("leader epoch %d after two elections, want 2", p.LeaderEpoch)
	}
	recs, code := alterPartition(im, ISRUpdate{Broker: 2, TopicID: im.Topics["t"].ID, LeaderEpoch: p.LeaderEpoch,
		PartitionEpoch: p.Epoch, ISR: []model.NodeID{2, 3}}, pol)
	if code != nil {
		t.Fatal(code)
	}
	step(t, im, "3 rejoining the ISR", recs, 2, []model.NodeID{2, 3}, nil)
}

// A leader that dies while an ELR member lives hands the partition to it
// at once; without min ISR above one there is no ELR and the partition
// waits for its last ISR member; an unclean election empties the ELR.
func TestEligibleLeaderTakesOverAtFencing(t *testing.T) {
	pol := cleanPolicy(2)
	im := elrImage(t)
	im = step(t, im, "fencing 3", fenceRecords(im, 3, pol), 1, []model.NodeID{1, 2}, nil)
	recs, code := alterPartition(im, ISRUpdate{Broker: 1, TopicID: im.Topics["t"].ID, LeaderEpoch: 0,
		PartitionEpoch: im.Topics["t"].Partitions[0].Epoch, ISR: []model.NodeID{1}}, pol)
	if code != nil {
		t.Fatal(code)
	}
	im = step(t, im, "shrinking to 1", recs, 1, []model.NodeID{1}, []model.NodeID{2})
	step(t, im, "fencing 1", fenceRecords(im, 1, pol), 2, []model.NodeID{2}, []model.NodeID{1})

	plain := elrImage(t)
	plain = step(t, plain, "fencing 3 (min ISR 1)", fenceRecords(plain, 3, cleanPolicy(1)), 1, []model.NodeID{1, 2}, nil)
	plain = step(t, plain, "fencing 2 (min ISR 1)", fenceRecords(plain, 2, cleanPolicy(1)), 1, []model.NodeID{1}, nil)
	step(t, plain, "fencing 1 (min ISR 1)", fenceRecords(plain, 1, cleanPolicy(1)), -1, []model.NodeID{1}, nil)

	unclean := policy{unclean: func(*metadata.Topic) bool { return true }, minISR: func(*metadata.Topic) int { return 2 }}
	u := elrImage(t)
	u = step(t, u, "fencing 3 (unclean allowed)", fenceRecords(u, 3, unclean), 1, []model.NodeID{1, 2}, nil)
	u = step(t, u, "fencing 2 (unclean allowed)", fenceRecords(u, 2, unclean), 1, []model.NodeID{1}, []model.NodeID{2})
	u = step(t, u, "3 back (unclean allowed)", unfenceRecords(u, 3, unclean), 1, []model.NodeID{1}, []model.NodeID{2})
	// No ISR or ELR member lives: 3, which lacks records, leads
	// (unclean), and 2's eligibility ends with the old history.
	step(t, u, "fencing 1 (unclean allowed)", fenceRecords(u, 1, unclean), 3, []model.NodeID{3}, nil)
}
