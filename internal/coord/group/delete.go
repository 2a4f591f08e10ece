package group

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/coord/runtime"
)

// deleteGroup handles one group of a DeleteGroups: only a group without
// members may go; its offsets and its metadata get tombstones.
func (s *shard) deleteGroup(w *runtime.Writer, id string) int16 {
	g := s.groups[id]
	switch {
	case g == nil || g.state == Dead:
		return codeGroupIDNotFound
	case g.consumer != nil:
		return s.deleteConsumerGroup(w, g) // consumer_offsets.go
	case g.state != Empty:
		return codeNonEmptyGroup
	}
	s.writeGroupTombstones(w, g)
	return 0
}

func (s *shard) writeGroupTombstones(w *runtime.Writer, g *group) {
	for topic, parts := range g.offsets {
		for p := range parts {
			w.Append(offsetKey(g.id, topic, p), nil)
		}
	}
	w.Append(groupKey(g.id), nil)
}

// offsetDelete handles an OffsetDelete: a group with members may only
// lose offsets of topics none of them subscribes to
// (GROUP_SUBSCRIBED_TO_TOPIC), and only if it is a consumer group, whose
// subscriptions the coordinator can read (else NON_EMPTY_GROUP).
func (s *shard) offsetDelete(w *runtime.Writer, req *kmsg.OffsetDeleteRequest, resp *kmsg.OffsetDeleteResponse) {
	g := s.groups[req.Group]
	switch {
	case g == nil || g.state == Dead:
		resp.ErrorCode = codeGroupIDNotFound
		return
	case g.state != Empty && g.protocolType != consumerProtocolType:
		resp.ErrorCode = codeNonEmptyGroup
		return
	}
	for _, t := range req.Topics {
		rt := kmsg.NewOffsetDeleteResponseTopic()
		rt.Topic = t.Topic
		subscribed := g.state != Empty && g.isSubscribed(t.Topic)
		if g.consumer != nil {
			subscribed = g.consumer.isSubscribed(t.Topic) // consumer_group.go
		}
		for _, p := range t.Partitions {
			rp := kmsg.NewOffsetDeleteResponseTopicPartition()
			rp.Partition = p.Partition
			switch {
			case subscribed:
				rp.ErrorCode = codeGroupSubscribedToTopic
			case g.offsets[t.Topic][p.Partition] != nil:
				w.Append(offsetKey(g.id, t.Topic, p.Partition), nil)
			}
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
}
