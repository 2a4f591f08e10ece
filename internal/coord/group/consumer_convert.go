package group

import "github.com/sluice-io/sluice/internal/coord/runtime"

// joinConsumerGroup decides whether a JoinGroup may go on when its group
// is a consumer group. An empty one becomes a classic group: its records
// get tombstones, its offsets stay (Kafka's maybeDeleteEmptyConsumerGroup).
// One with members would need classic members inside a consumer group,
// which Sluice does not support: false, and the join is answered
// INCONSISTENT_GROUP_PROTOCOL, Kafka's answer to a member whose protocols
// the group cannot take.
func (s *shard) joinConsumerGroup(w *runtime.Writer, gid string) bool {
	g := s.groups[gid]
	if g == nil || g.consumer == nil {
		return true
	}
	if len(g.consumer.members) > 0 {
		return false
	}
	s.opts.Logger.Info("converting empty consumer group to a classic group", "group", gid)
	s.writeConsumerGroupTombstones(w, gid, g.consumer)
	return true
}
