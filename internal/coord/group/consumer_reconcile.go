package group

import (
	"maps"
	"slices"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/coord/runtime"
	"github.com/sluice-io/sluice/internal/model"
)

// reconcile moves a member one step towards its target assignment and
// writes its new state when it changed; a member that must revoke arms
// its rebalance timeout.
func (s *shard) reconcile(w *runtime.Writer, gid string, cg *consumerGroup, m *cmember, owned []kmsg.ConsumerGroupHeartbeatRequestTopic) {
	if m.reconciledTo(cg.assignmentEpoch) {
		return
	}
	next := cg.nextAssignment(m, owned)
	if sameCurrent(m, next) {
		return
	}
	s.writeCurrent(w, gid, m.id, next)
	if m.state == memberUnrevoked {
		s.scheduleRebalance(w, gid, m)
	} else {
		w.Cancel(rebalanceKey(gid, m.id))
	}
}

// nextAssignment is the reconciliation state machine (Kafka's
// CurrentAssignmentBuilder):
//
//	STABLE      --target epoch moved------------------> next step
//	UNREVOKED   --member no longer reports the revoked-> next step
//	UNRELEASED  --every heartbeat-----------------------> next step
//	UNKNOWN     --member rejoined empty-handed----------> next step at the target epoch
//
// The next step keeps assigned ∩ target; partitions assigned but no
// longer targeted must be revoked first: the member stays at its epoch
// in UNREVOKED_PARTITIONS. Otherwise it moves to the target epoch and
// gets the targeted partitions nobody else owns; those another member
// still owns leave it in UNRELEASED_PARTITIONS until they are released.
func (cg *consumerGroup) nextAssignment(m *cmember, owned []kmsg.ConsumerGroupHeartbeatRequestTopic) *cgCurrentValue {
	cur := &cgCurrentValue{epoch: m.epoch, prevEpoch: m.prevEpoch, state: m.state, assigned: m.assigned, revoking: m.revoking}
	switch m.state {
	case memberStable:
		if m.epoch == cg.assignmentEpoch {
			return cur
		}
		return cg.computeNext(m, m.epoch, owned)
	case memberUnrevoked:
		if ownsAny(owned, m.revoking) {
			return cur
		}
		return cg.computeNext(m, m.epoch, owned)
	case memberUnreleased:
		return cg.computeNext(m, m.epoch, owned)
	}
	return cg.computeNext(m, cg.assignmentEpoch, owned)
}

// computeNext is CurrentAssignmentBuilder.computeNextAssignment.
func (cg *consumerGroup) computeNext(m *cmember, epoch int32, owned []kmsg.ConsumerGroupHeartbeatRequestTopic) *cgCurrentValue {
	target := cg.target[m.id]
	assigned, revoking, pending := parts{}, parts{}, parts{}
	unreleased := false
	for id, ps := range m.assigned {
		for p, e := range ps {
			if target.has(id, p) {
				assigned.add(id, p, e)
			} else {
				revoking.add(id, p, e)
			}
		}
	}
	for id, ps := range target {
		for p := range ps {
			if assigned.has(id, p) {
				continue
			}
			if o := cg.owner(id, p); o != "" && o != m.id {
				unreleased = true
				continue
			}
			pending.add(id, p, 0)
		}
	}
	if len(revoking) > 0 && ownsAny(owned, revoking) {
		return &cgCurrentValue{epoch: epoch, prevEpoch: m.epoch, state: memberUnrevoked, assigned: assigned, revoking: revoking}
	}
	for id, ps := range pending {
		for p := range ps {
			assigned.add(id, p, cg.assignmentEpoch)
		}
	}
	next := &cgCurrentValue{epoch: cg.assignmentEpoch, prevEpoch: m.epoch, state: memberStable, assigned: assigned, revoking: parts{}}
	if unreleased {
		next.state = memberUnreleased
	}
	return next
}

// sameCurrent: the member already is in state v.
func sameCurrent(m *cmember, v *cgCurrentValue) bool {
	return m.epoch == v.epoch && m.prevEpoch == v.prevEpoch && m.state == v.state &&
		sameEpochs(m.assigned, v.assigned) && sameEpochs(m.revoking, v.revoking)
}

// sameEpochs compares assignments with their assignment epochs.
func sameEpochs(a, b parts) bool {
	return maps.EqualFunc(a, b, func(x, y map[int32]int32) bool { return maps.Equal(x, y) })
}

// partitionsOf lists one topic's partitions of p, sorted.
func partitionsOf(p parts, id model.TopicID) []int32 {
	return slices.Sorted(maps.Keys(p[id]))
}
