package controller

import (
	"context"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/sluice-io/sluice/internal/metadata"
	"github.com/sluice-io/sluice/internal/model"
)

// ISRUpdate is a leader's ISR proposal (one partition of Kafka's
// AlterPartition).
type ISRUpdate struct {
	Broker         model.NodeID // the leader that proposes
	TopicID        model.TopicID
	Partition      int32
	LeaderEpoch    model.LeaderEpoch
	PartitionEpoch int32
	ISR            []model.NodeID
	// BrokerEpochs are the broker epochs of the ISR's members as the
	// leader saw them in their fetches, in the order of ISR; nil, 0 or -1
	// unknown (KIP-903; a broker epoch is the index of a metadata entry,
	// never 0).
	BrokerEpochs []int64
	// BrokerEpoch is the leader's own, 0 or -1 unknown.
	BrokerEpoch int64
	// Recovering is the leader recovery state the leader asks for
	// (KIP-704): false (RECOVERED) ends the recovery of a partition
	// elected uncleanly.
	Recovering bool
}

// AlterPartition commits a leader's new ISR, checked as Kafka's
// ReplicationControlManager does: an unknown partition is
// UNKNOWN_TOPIC_ID, a proposal from an older leader epoch
// FENCED_LEADER_EPOCH (a newer one NOT_CONTROLLER: this controller is
// behind), from a broker that does not lead INVALID_REQUEST, against
// another partition epoch INVALID_UPDATE_VERSION, an ISR that is not a
// set of the partition's replicas holding the leader INVALID_REQUEST, and
// one adding a fenced broker, or a broker whose fetches came from an
// earlier process than the one registered now (its broker epoch,
// KIP-903), INELIGIBLE_REPLICA; a leader at a broker epoch that is not
// its registration's gets STALE_BROKER_EPOCH. KIP-704: a recovered
// partition cannot go back to recovering, and a recovering one keeps the
// leader alone as its ISR, also in the proposal that ends its recovery
// (INVALID_REQUEST). Accepted, the partition
// epoch goes up by one (the leader epoch does not) and the eligible
// leader replicas follow the new ISR. It returns the code,
// nil when committed.
func (c *Controller) AlterPartition(ctx context.Context, u ISRUpdate) (*kerr.Error, error) {
	var code *kerr.Error
	_, err := c.run(ctx, func(im *metadata.Image) []metadata.Record {
		var recs []metadata.Record
		recs, code = alterPartition(im, u, c.policy(im))
		return recs
	})
	return code, err
}

func alterPartition(im *metadata.Image, u ISRUpdate, pol policy) ([]metadata.Record, *kerr.Error) {
	t := im.TopicIDs[u.TopicID]
	if t == nil || u.Partition < 0 || int(u.Partition) >= len(t.Partitions) {
		return nil, kerr.UnknownTopicID
	}
	p := t.Partitions[u.Partition]
	if b := im.Brokers[u.Broker]; u.BrokerEpoch > 0 && (b == nil || b.Epoch != u.BrokerEpoch) {
		return nil, kerr.StaleBrokerEpoch
	}
	switch {
	case u.LeaderEpoch < p.LeaderEpoch:
		return nil, kerr.FencedLeaderEpoch
	case u.LeaderEpoch > p.LeaderEpoch:
		return nil, kerr.NotController
	case u.Broker != p.Leader:
		return nil, kerr.InvalidRequest
	case u.PartitionEpoch != p.Epoch:
		return nil, kerr.InvalidUpdateVersion
	case !slices.Contains(u.ISR, p.Leader):
		return nil, kerr.InvalidRequest
	case u.Recovering && !p.Recovering:
		return nil, kerr.InvalidRequest
	case p.Recovering && len(u.ISR) != 1:
		return nil, kerr.InvalidRequest
	}
	seen := map[model.NodeID]bool{}
	for i, id := range u.ISR {
		if seen[id] || !slices.Contains(p.Replicas, id) {
			return nil, kerr.InvalidRequest
		}
		seen[id] = true
		if slices.Contains(p.ISR, id) {
			continue
		}
		b := im.Brokers[id]
		if b == nil || b.Fenced || (i < len(u.BrokerEpochs) && u.BrokerEpochs[i] > 0 && u.BrokerEpochs[i] != b.Epoch) {
			return nil, kerr.IneligibleReplica
		}
	}
	// A shrink below min ISR moves the members it drops to the ELR
	// (fencing.go); an ISR back at min ISR empties it.
	rec := pol.change(t, int(u.Partition), p, p.Leader, slices.Clone(u.ISR))
	rec.Recovering = u.Recovering
	return []metadata.Record{{Partition: rec}}, nil
}
