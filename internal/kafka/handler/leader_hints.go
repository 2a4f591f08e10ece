package handler

// KIP-951: a Produce (v10+) or Fetch (v16+; CurrentLeader from v12)
// answered NOT_LEADER_OR_FOLLOWER (a fetch also FENCED_LEADER_EPOCH)
// names the partition's leader and epoch as this broker's image knows
// them, and the response carries that leader's endpoint, so a client
// moves to the new leader at once instead of waiting for a metadata
// refresh (franz-go's default is 5 s). Nothing is named when the image
// has no leader or names this broker: the client refreshes metadata as
// before.

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/kafka/wire"
	"github.com/sluice-io/sluice/internal/metadata"
	"github.com/sluice-io/sluice/internal/model"
)

// leaderHint is the leader of topic's partition p another broker holds,
// with its endpoint; ok is false when there is none to name.
func (b *Broker) leaderHint(im *metadata.Image, t *metadata.Topic, p int32) (metadata.Partition, *metadata.Broker, bool) {
	if t == nil || p < 0 || int(p) >= len(t.Partitions) {
		return metadata.Partition{}, nil, false
	}
	part := t.Partitions[p]
	br := im.Brokers[part.Leader]
	if part.Leader < 0 || part.Leader == b.Settings.NodeID || br == nil || br.Fenced {
		return metadata.Partition{}, nil, false
	}
	return part, br, true
}

// addProduceLeaderHints fills CurrentLeader and the response's brokers
// for the partitions answered NOT_LEADER_OR_FOLLOWER.
func (b *Broker) addProduceLeaderHints(resp *kmsg.ProduceResponse) {
	if resp.GetVersion() < 10 {
		return
	}
	var im *metadata.Image // read only when a partition needs it: the produce path stays as it was
	var named map[model.NodeID]bool
	for i := range resp.Topics {
		st := &resp.Topics[i]
		for j := range st.Partitions {
			sp := &st.Partitions[j]
			if sp.ErrorCode != kerr.NotLeaderForPartition.Code {
				continue
			}
			if im == nil {
				im, named = b.Metadata.Current(), map[model.NodeID]bool{}
			}
			t := im.Topics[st.Topic]
			if t == nil {
				t = im.TopicIDs[model.TopicID(st.TopicID)]
			}
			part, br, ok := b.leaderHint(im, t, sp.Partition)
			if !ok {
				continue
			}
			sp.CurrentLeader.LeaderID, sp.CurrentLeader.LeaderEpoch = int32(part.Leader), int32(part.LeaderEpoch)
			if !named[br.ID] {
				named[br.ID] = true
				rb := kmsg.NewProduceResponseBroker()
				rb.NodeID, rb.Host, rb.Port = int32(br.ID), br.Host, br.Port
				if br.Rack != "" {
					rb.Rack = kmsg.StringPtr(br.Rack)
				}
				resp.Brokers = append(resp.Brokers, rb)
			}
		}
	}
}

// fetchLeaderHint fills sp.CurrentLeader (v12+) and the leader's endpoint
// (v16+) for a partition answered NOT_LEADER_OR_FOLLOWER or
// FENCED_LEADER_EPOCH.
func (b *Broker) fetchLeaderHint(im *metadata.Image, version int16, t *metadata.Topic, sp *wire.FetchPartition, resp *wire.FetchResponse) {
	if version < 12 || (sp.ErrorCode != kerr.NotLeaderForPartition.Code && sp.ErrorCode != kerr.FencedLeaderEpoch.Code) {
		return
	}
	part, br, ok := b.leaderHint(im, t, sp.Partition)
	if !ok {
		return
	}
	sp.CurrentLeader = &wire.CurrentLeader{LeaderID: part.Leader, LeaderEpoch: part.LeaderEpoch}
	if version < 16 {
		return
	}
	for _, e := range resp.NodeEndpoints {
		if e.NodeID == br.ID {
			return
		}
	}
	ep := wire.NodeEndpoint{NodeID: br.ID, Host: br.Host, Port: br.Port}
	if br.Rack != "" {
		ep.Rack = &br.Rack
	}
	resp.NodeEndpoints = append(resp.NodeEndpoints, ep)
}
