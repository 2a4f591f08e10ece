package controller

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/sluice-io/sluice/internal/metadata"
	"github.com/sluice-io/sluice/internal/model"
)

// AlterPartition refuses what Kafka's ReplicationControlManager refuses:
// among them the proposal of a leader that was fenced meanwhile (its
// partition moved on at a new leader epoch) and an ISR that adds a fenced
// broker.
func TestAlterPartitionChecks(t *testing.T) {
	pol := cleanPolicy(1)
	im := elrImage(t) // leader 1, replicas and ISR 1,2,3
	id := im.Topics["t"].ID
	ok := func(isr ...model.NodeID) ISRUpdate {
		return ISRUpdate{Broker: 1, TopicID: id, LeaderEpoch: 0, PartitionEpoch: 0, ISR: isr}
	}
	// Broker 1 is fenced: broker 2 leads at leader epoch 1, ISR 2,3.
	fenced, err := im.Apply(2, fenceRecords(im, 1, pol))
	if err != nil {
		t.Fatal(err)
	}
	if p := fenced.Topics["t"].Partitions[0]; p.Leader != 2 || p.LeaderEpoch != 1 {
		t.Fatalf("after fencing 1: %+v", p)
	}
	// Broker 3 is fenced too, seen from broker 2's partition.
	three, err := fenced.Apply(3, fenceRecords(fenced, 3, pol))
	if err != nil {
		t.Fatal(err)
	}
	p3 := three.Topics["t"].Partitions[0]
	tests := []struct {
		name string
		im   *metadata.Image
		u    ISRUpdate
		want *kerr.Error
	}{
		{"shrink", im, ok(1, 2), nil},
		{"from a fenced leader", fenced, ok(1, 2), kerr.FencedLeaderEpoch},
		{"from a newer leader epoch", im, ISRUpdate{Broker: 1, TopicID: id, LeaderEpoch: 5, ISR: []model.NodeID{1}}, kerr.NotController},
		{"from a follower", im, ISRUpdate{Broker: 2, TopicID: id, ISR: []model.NodeID{1, 2}}, kerr.InvalidRequest},
		{"stale partition epoch", im, ISRUpdate{Broker: 1, TopicID: id, PartitionEpoch: 7, ISR: []model.NodeID{1}}, kerr.InvalidUpdateVersion},
		{"ISR without its leader", im, ok(2, 3), kerr.InvalidRequest},
		{"ISR with a non-replica", im, ok(1, 4), kerr.InvalidRequest},
		{"ISR with a duplicate", im, ok(1, 1), kerr.InvalidRequest},
		{"unknown topic", im, ISRUpdate{Broker: 1, TopicID: model.NewTopicID(), ISR: []model.NodeID{1}}, kerr.UnknownTopicID},
		{"unknown partition", im, ISRUpdate{Broker: 1, TopicID: id, Partition: 3, ISR: []model.NodeID{1}}, kerr.UnknownTopicID},
		{"adding a fenced broker", three, ISRUpdate{Broker: 2, TopicID: id, LeaderEpoch: p3.LeaderEpoch, PartitionEpoch: p3.Epoch,
			ISR: []model.NodeID{2, 1}}, kerr.IneligibleReplica},
	}
	// KIP-903: broker 3 left the ISR; a proposal that adds it back with
	// a broker epoch other than its registration's (another process of
	// broker 3 fetched) is refused, one with its registration's is not; a
	// leader at another epoch than its own registration's is refused.
	shrunk, err := im.Apply(4, mustAlter(t, im, ok(1, 2), pol))
	if err != nil {
		t.Fatal(err)
	}
	e3, e1 := im.Brokers[3].Epoch, im.Brokers[1].Epoch
	if e3 <= 0 || e1 <= 0 {
		t.Fatalf("broker epochs %d and %d: the test needs registered brokers", e1, e3)
	}
	ps := shrunk.Topics["t"].Partitions[0]
	grow := func(leaderEpoch int64, epochs ...int64) ISRUpdate {
		return ISRUpdate{Broker: 1, TopicID: id, PartitionEpoch: ps.Epoch, ISR: []model.NodeID{1, 2, 3},
			BrokerEpochs: epochs, BrokerEpoch: leaderEpoch}
	}
	tests = append(tests, []struct {
		name string
		im   *metadata.Image
		u    ISRUpdate
		want *kerr.Error
	}{
		{"adding a broker another process of it fetched for", shrunk, grow(e1, -1, -1, e3+7), kerr.IneligibleReplica},
		{"adding a broker at its registered epoch", shrunk, grow(e1, -1, -1, e3), nil},
		{"from a leader at a stale broker epoch", shrunk, grow(e1+1, -1, -1, e3), kerr.StaleBrokerEpoch},
	}...)
	for _, tt := range tests {
		recs, code := alterPartition(tt.im, tt.u, pol)
		if code != tt.want {
			t.Errorf("%s: code %v, want %v", tt.name, code, tt.want)
			continue
		}
		if (code == nil) != (len(recs) == 1) {
			t.Errorf("%s: %d records with code %v", tt.name, len(recs), code)
		}
	}
}

// mustAlter returns the records of an accepted proposal.
func mustAlter(t *testing.T, im *metadata.Image, u ISRUpdate, pol policy) []metadata.Record {
	t.Helper()
	recs, code := alterPartition(im, u, pol)
	if code != nil {
		t.Fatalf("proposal %+v: %v", u, code)
	}
	return recs
}
