package controller

import (
	"context"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/metadata"
	"github.com/sluice-io/sluice/internal/model"
)

// ElectResult is one partition's outcome of ElectLeaders.
type ElectResult struct {
	Topic     string
	Partition int32
	Err       *kerr.Error
	Message   string
}

// Election types of ElectLeaders (KIP-460).
const (
	ElectPreferred int8 = 0
	ElectUnclean   int8 = 1
)

// ElectLeaders runs the elections of req (kafka-leader-election.sh) as
// Kafka's ReplicationControlManager does:
//
//   - preferred: the first replica leads if it is in the ISR and unfenced
//     (PREFERRED_LEADER_NOT_AVAILABLE otherwise, ELECTION_NOT_NEEDED when
//     it leads already);
//   - unclean: a partition without a leader gets the first unfenced member
//     of its ISR, else of its ELR (both lose nothing), or, when none is
//     left, the first unfenced replica with an ISR of itself: records it
//     never had are lost, which the operator asked for
//     (ELECTION_NOT_NEEDED when it has a leader,
//     ELIGIBLE_LEADERS_NOT_AVAILABLE when no replica is up).
//
// Each election raises the leader epoch and the partition epoch. Null
// topics is every partition; then only the partitions an election
// changed or could not change are reported, as Kafka does.
func (c *Controller) ElectLeaders(ctx context.Context, req *kmsg.ElectLeadersRequest) ([]ElectResult, error) {
	var results []ElectResult
	_, err := c.run(ctx, func(im *metadata.Image) []metadata.Record {
		var recs []metadata.Record
		recs, results = electLeaders(im, req, c.policy(im))
		return recs
	})
	return results, err
}

func electLeaders(im *metadata.Image, req *kmsg.ElectLeadersRequest, pol policy) ([]metadata.Record, []ElectResult) {
	var recs []metadata.Record
	var out []ElectResult
	elect := func(t *metadata.Topic, p int32, all bool) {
		res := ElectResult{Topic: t.Name, Partition: p}
		rec, code := electOne(im, t, p, req.ElectionType, pol)
		switch {
		case rec != nil:
			recs = append(recs, metadata.Record{Partition: rec})
		case all && code == kerr.ElectionNotNeeded:
			return
		default:
			res.Err = code
		}
		out = append(out, res)
	}
	if req.Topics == nil {
		for _, name := range im.TopicNames() {
			t := im.Topics[name]
			for p := range t.Partitions {
				elect(t, int32(p), true)
			}
		}
		return recs, out
	}
	for _, rt := range req.Topics {
		t := im.Topics[rt.Topic]
		for _, p := range rt.Partitions {
			if t == nil || p < 0 || int(p) >= len(t.Partitions) {
				out = append(out, ElectResult{Topic: rt.Topic, Partition: p, Err: kerr.UnknownTopicOrPartition})
				continue
			}
			elect(t, p, false)
		}
	}
	return recs, out
}

// electOne is one partition's election: its new record, or why none.
func electOne(im *metadata.Image, t *metadata.Topic, p int32, typ int8, pol policy) (*metadata.PartitionRecord, *kerr.Error) {
	part := t.Partitions[p]
	live := func(n model.NodeID) bool { b := im.Brokers[n]; return b != nil && !b.Fenced }
	isr := part.ISR
	var leader model.NodeID = -1
	switch typ {
	case ElectPreferred:
		pref := part.Replicas[0]
		switch {
		case part.Leader == pref:
			return nil, kerr.ElectionNotNeeded
		case !slices.Contains(part.ISR, pref) || !live(pref):
			return nil, kerr.PreferredLeaderNotAvailable
		}
		leader = pref
	case ElectUnclean:
		if part.Leader >= 0 && live(part.Leader) {
			return nil, kerr.ElectionNotNeeded
		}
		if leader, isr = electClean(part, isr, live); leader >= 0 {
			break
		}
		if leader = uncleanLeader(im, part, -1); leader < 0 {
			return nil, kerr.EligibleLeadersNotAvailable
		}
		return uncleanChange(t, int(p), part, leader), nil
	default:
		return nil, kerr.InvalidRequest
	}
	return pol.change(t, int(p), part, leader, isr), nil
}
