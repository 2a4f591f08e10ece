package group

import (
	"maps"
	"slices"

	"github.com/sluice-io/sluice/internal/coord/runtime"
	"github.com/sluice-io/sluice/internal/model"
)

// updateTarget computes the target assignment at the group epoch with the
// preferred assignor and writes what changed: the target of each member
// whose partitions moved, then the assignment epoch (Kafka's
// TargetAssignmentBuilder). Members that left with epoch -2 keep their
// share until they rejoin or time out.
func (s *shard) updateTarget(w *runtime.Writer, gid string, cg *consumerGroup) {
	name := cg.preferredAssignor(s.opts.ConsumerAssignors[0])
	a := assignors[name]
	if a == nil {
		a = assignors[s.opts.ConsumerAssignors[0]]
	}
	spec := &assignSpec{topics: map[model.TopicID]int32{}}
	for _, t := range cg.subscription {
		spec.topics[t.id] = t.partitions
	}
	for _, id := range slices.Sorted(maps.Keys(cg.members)) {
		m := cg.members[id]
		am := assignMember{id: id, topics: cg.subscribedIDs(m), current: cg.target[id]}
		if m.instanceID != nil {
			am.instance = *m.instanceID
		}
		spec.members = append(spec.members, am)
	}
	out := a.assign(spec)
	for _, am := range spec.members {
		if next := out[am.id]; !samePartitions(next, am.current) {
			s.writeTarget(w, gid, am.id, next)
		}
	}
	s.writeTargetEpoch(w, gid, cg.epoch)
	s.opts.Logger.Debug("computed consumer group target assignment", "group", gid, "epoch", cg.epoch, "assignor", name)
}
