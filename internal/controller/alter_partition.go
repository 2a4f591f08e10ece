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
}

// AlterPartition commits a leader's new ISR, checked as Kafka's
// ReplicationControlManager does: an unknown partition is
// UNKNOWN_TOPIC_ID, a proposal from an older leader epoch
// FENCED_LEADER_EPOCH (a newer one NOT_CONTROLLER: this controller is
// behind), from a broker that does not lead INVALID_REQUEST, against
// another partition epoch INVALID_UPDATE_VERSION, an ISR that is not a
// set of the partition's replicas holding the leader INVALID_REQUEST, and
// one with a fenced broker INELIGIBLE_REPLICA. Accepted, the partition
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
	}
	seen := map[model.NodeID]bool{}
	for _, id := range u.ISR {
		if seen[id] || !slices.Contains(p.Replicas, id) {
			return nil, kerr.InvalidRequest
		}
		seen[id] = true
		if b := im.Brokers[id]; !slices.Contains(p.ISR, id) && (b == nil || b.Fenced) {
			return nil, kerr.IneligibleReplica
		}
	}
	// A shrink below min ISR moves the members it drops to the ELR
	// (fencing.go); an ISR back at min ISR empties it.
	return []metadata.Record{{Partition: pol.change(t, int(u.Partition), p, p.Leader, slices.Clone(u.ISR))}}, nil
}
