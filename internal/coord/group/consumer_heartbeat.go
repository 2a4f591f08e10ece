package group

import (
	"maps"
	"slices"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/coord/runtime"
)

// consumerHeartbeat handles a ConsumerGroupHeartbeat whose fields passed
// validateConsumerHeartbeat: a leave (epoch -1 or -2), or a join or
// heartbeat, which (Kafka's consumerGroupHeartbeat) updates the member and
// bumps the group epoch when the subscriptions changed, recomputes the
// target assignment when the group epoch is ahead of it, and reconciles
// the member towards its target.
func (s *shard) consumerHeartbeat(w *runtime.Writer, req *kmsg.ConsumerGroupHeartbeatRequest, cl client) *kmsg.ConsumerGroupHeartbeatResponse {
	if req.MemberEpoch == leaveEpoch || req.MemberEpoch == staticLeaveEpoch {
		return s.consumerLeave(w, req)
	}
	p, cerr := s.planHeartbeat(req)
	if cerr != nil {
		return heartbeatError(cerr)
	}
	cg := s.openConsumerGroup(w, p)
	if p.replaced != nil {
		s.takeOverStaticMember(w, p.gid, cg, p.replaced, p.memberID)
	}
	old := cg.members[p.memberID]
	bump := cg.epoch == 0
	if next := updatedMember(old, p.memberID, req, cl); old == nil || !sameMemberMetadata(old, next) {
		bump = subscriptionChanged(old, next) || bump
		s.writeMember(w, p.gid, next)
	}
	m := cg.members[p.memberID]
	if im := s.opts.metadataImage(); bump || cg.image != im {
		if sub := cg.computeSubscription(im); !maps.Equal(sub, cg.subscription) {
			s.writeSubscription(w, p.gid, sub)
			bump = true
		}
	}
	if bump {
		s.writeGroupEpoch(w, p.gid, cg.epoch+1, subscriptionHash(cg.subscription))
	}
	if cg.epoch > cg.assignmentEpoch {
		s.updateTarget(w, p.gid, cg)
	}
	before := m.assigned
	s.reconcile(w, p.gid, cg, m, req.Topics)
	s.scheduleSession(w, p.gid, m.id)

	r := kmsg.NewPtrConsumerGroupHeartbeatResponse()
	r.MemberID, r.MemberEpoch = &m.id, m.epoch
	r.HeartbeatIntervalMillis = int32(s.opts.ConsumerHeartbeatInterval.Milliseconds())
	if fullHeartbeat(req) || old == nil || !samePartitions(before, m.assigned) {
		r.Assignment = responseAssignment(m.assigned)
	}
	return r
}

// openConsumerGroup makes the group of a planned heartbeat exist as a
// consumer group: created, or converted from an empty classic group,
// whose metadata gets a tombstone (its offsets stay).
func (s *shard) openConsumerGroup(w *runtime.Writer, p hbPlan) *consumerGroup {
	if p.convert {
		s.replayGroupTombstone(p.gid)
		w.AppendApplied(groupKey(p.gid), nil)
	}
	if g := s.groups[p.gid]; g != nil && g.consumer != nil {
		return g.consumer
	}
	return s.consumerGroupFor(p.gid, w.Now().UnixMilli())
}

// updatedMember is the member as the request makes it: fields a
// heartbeat leaves null keep their value; a new member starts empty.
func updatedMember(old *cmember, id string, req *kmsg.ConsumerGroupHeartbeatRequest, cl client) *cmember {
	m := &cmember{id: id, rebalanceTimeoutMs: -1}
	if old != nil {
		c := *old
		m = &c
	}
	if req.InstanceID != nil {
		m.instanceID = req.InstanceID
	}
	if req.RackID != nil {
		m.rackID = req.RackID
	}
	if req.RebalanceTimeoutMillis != -1 {
		m.rebalanceTimeoutMs = req.RebalanceTimeoutMillis
	}
	if req.ServerAssignor != nil {
		m.assignor = *req.ServerAssignor
	}
	if req.SubscribedTopicNames != nil {
		m.topics = slices.Compact(slices.Sorted(slices.Values(req.SubscribedTopicNames)))
	}
	if req.SubscribedTopicRegex != nil {
		m.regex = *req.SubscribedTopicRegex
	}
	m.clientID, m.clientHost = cl.id, cl.host
	return m
}

// sameMemberMetadata compares what ConsumerGroupMemberMetadata holds.
func sameMemberMetadata(a, b *cmember) bool {
	return eqStrPtr(a.instanceID, b.instanceID) && eqStrPtr(a.rackID, b.rackID) &&
		a.clientID == b.clientID && a.clientHost == b.clientHost && slices.Equal(a.topics, b.topics) &&
		a.regex == b.regex && a.rebalanceTimeoutMs == b.rebalanceTimeoutMs && a.assignor == b.assignor
}

// subscriptionChanged: what the member reads, or the assignor it asks
// for, changed, so the group needs a new target assignment.
func subscriptionChanged(old, next *cmember) bool {
	if old == nil {
		old = &cmember{}
	}
	return !slices.Equal(old.topics, next.topics) || old.regex != next.regex || old.assignor != next.assignor
}

func eqStrPtr(a, b *string) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}

// fullHeartbeat: the member sent everything, as it does on joining and
// after an error; it gets its whole assignment back.
func fullHeartbeat(req *kmsg.ConsumerGroupHeartbeatRequest) bool {
	return req.MemberEpoch == joinEpoch || (req.RebalanceTimeoutMillis != -1 &&
		(req.SubscribedTopicNames != nil || req.SubscribedTopicRegex != nil) && req.Topics != nil)
}

func responseAssignment(p parts) *kmsg.ConsumerGroupHeartbeatResponseAssignment {
	a := &kmsg.ConsumerGroupHeartbeatResponseAssignment{}
	a.Topics = []kmsg.ConsumerGroupHeartbeatResponseAssignmentTopic{}
	for _, id := range p.sortedTopics() {
		t := kmsg.NewConsumerGroupHeartbeatResponseAssignmentTopic()
		t.TopicID, t.Partitions = id, slices.Sorted(maps.Keys(p[id]))
		a.Topics = append(a.Topics, t)
	}
	return a
}

func heartbeatError(e *cgError) *kmsg.ConsumerGroupHeartbeatResponse {
	r := kmsg.NewPtrConsumerGroupHeartbeatResponse()
	r.ErrorCode = e.code
	if e.msg != "" {
		r.ErrorMessage = &e.msg
	}
	return r
}

// takeOverStaticMember hands a static member that left (-2) over to the
// member that joined with its instance id (Kafka's replaceMember): the
// old member's records get tombstones, the new one takes its target and
// its assignment at epoch 0, and reconciles to it without a rebalance.
func (s *shard) takeOverStaticMember(w *runtime.Writer, gid string, cg *consumerGroup, old *cmember, newID string) {
	nm := *old
	nm.id = newID
	target := cg.target[old.id]
	cur := cgCurrentValue{state: old.state, assigned: old.assigned.clone(), revoking: old.revoking.clone()}
	s.cancelMemberTimers(w, gid, old.id)
	s.writeMemberRemoval(w, gid, old.id)
	s.writeMember(w, gid, &nm)
	if target != nil {
		s.writeTarget(w, gid, newID, target)
	}
	s.writeCurrent(w, gid, newID, &cur)
}
