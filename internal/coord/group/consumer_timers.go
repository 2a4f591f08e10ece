package group

import (
	"maps"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/coord/runtime"
)

// Timer keys of consumer group members: the session timeout and the
// rebalance timeout (revocation deadline).
func sessionKey(gid, mid string) string   { return "cg-session/" + gid + "/" + mid }
func rebalanceKey(gid, mid string) string { return "cg-rebalance/" + gid + "/" + mid }

// scheduleSession (re)arms a member's session timeout
// (group.consumer.session.timeout.ms): a member silent that long is
// fenced.
func (s *shard) scheduleSession(w *runtime.Writer, gid, mid string) {
	w.Schedule(sessionKey(gid, mid), s.opts.ConsumerSessionTimeout, func(w *runtime.Writer) {
		if cg, m := s.consumerMember(gid, mid); m != nil {
			s.opts.Logger.Info("consumer group member session timed out", "group", gid, "member", mid)
			s.fenceMember(w, gid, cg, m)
		}
	})
}

// scheduleRebalance arms the revocation deadline of a member that must
// revoke partitions: still at this epoch after its rebalance timeout, it
// is fenced, and its partitions go to others.
func (s *shard) scheduleRebalance(w *runtime.Writer, gid string, m *cmember) {
	mid, epoch := m.id, m.epoch
	timeout := ms(m.rebalanceTimeoutMs)
	if m.rebalanceTimeoutMs <= 0 {
		timeout = s.opts.ConsumerSessionTimeout
	}
	w.Schedule(rebalanceKey(gid, mid), timeout, func(w *runtime.Writer) {
		if cg, m := s.consumerMember(gid, mid); m != nil && m.epoch == epoch {
			s.opts.Logger.Info("consumer group member did not revoke in time", "group", gid, "member", mid, "epoch", epoch)
			s.fenceMember(w, gid, cg, m)
		}
	})
}

func (s *shard) cancelMemberTimers(w *runtime.Writer, gid, mid string) {
	w.Cancel(sessionKey(gid, mid))
	w.Cancel(rebalanceKey(gid, mid))
}

// consumerMember finds a member of a consumer group.
func (s *shard) consumerMember(gid, mid string) (*consumerGroup, *cmember) {
	g := s.groups[gid]
	if g == nil || g.consumer == nil {
		return nil, nil
	}
	return g.consumer, g.consumer.members[mid]
}

// fenceMember removes a member (left, timed out, or too slow to revoke):
// its records get tombstones, the subscription is recomputed without it
// and the group epoch bumps, so the next heartbeat reassigns its
// partitions (Kafka's consumerGroupFenceMember).
func (s *shard) fenceMember(w *runtime.Writer, gid string, cg *consumerGroup, m *cmember) {
	s.cancelMemberTimers(w, gid, m.id)
	s.writeMemberRemoval(w, gid, m.id)
	if sub := cg.computeSubscription(s.opts.metadataImage()); !maps.Equal(sub, cg.subscription) {
		s.writeSubscription(w, gid, sub)
	}
	s.writeGroupEpoch(w, gid, cg.epoch+1, subscriptionHash(cg.subscription))
}

// consumerLeave handles epochs -1 (leave) and -2 (a static member's
// temporary leave: it keeps its assignment, marked with epoch -2, until
// its instance rejoins or its session times out).
func (s *shard) consumerLeave(w *runtime.Writer, req *kmsg.ConsumerGroupHeartbeatRequest) *kmsg.ConsumerGroupHeartbeatResponse {
	g := s.groups[req.Group]
	switch {
	case g == nil:
		return heartbeatError(cgErrorf(codeGroupIDNotFound, "Group %s not found.", req.Group))
	case g.consumer == nil:
		return heartbeatError(cgErrorf(codeGroupIDNotFound, "Group %s is not a consumer group.", req.Group))
	}
	cg := g.consumer
	var m *cmember
	if req.InstanceID == nil {
		if m = cg.members[req.MemberID]; m == nil {
			return heartbeatError(cgErrorf(codeUnknownMemberID, "Member %s is not a member of group %s.", req.MemberID, req.Group))
		}
	} else {
		m = cg.members[cg.static[*req.InstanceID]]
		switch {
		case m == nil:
			return heartbeatError(cgErrorf(codeUnknownMemberID, "Instance id %s is unknown.", *req.InstanceID))
		case m.id != req.MemberID:
			return heartbeatError(cgErrorf(codeFencedInstanceID, "Static member %s with instance id %s was fenced by member %s.", req.MemberID, *req.InstanceID, m.id))
		}
	}
	r := kmsg.NewPtrConsumerGroupHeartbeatResponse()
	r.MemberID, r.MemberEpoch = &req.MemberID, req.MemberEpoch
	if req.MemberEpoch == staticLeaveEpoch {
		s.opts.Logger.Info("static consumer group member left temporarily", "group", req.Group, "member", m.id)
		w.Cancel(rebalanceKey(req.Group, m.id))
		s.writeCurrent(w, req.Group, m.id, &cgCurrentValue{epoch: staticLeaveEpoch, prevEpoch: m.prevEpoch,
			state: m.state, assigned: m.assigned.clone(), revoking: parts{}})
		return r
	}
	s.opts.Logger.Info("consumer group member left", "group", req.Group, "member", m.id)
	s.fenceMember(w, req.Group, cg, m)
	return r
}

// consumerLoaded arms, after a load, the timers of every consumer group
// member: sessions start anew, revocation deadlines too.
func (s *shard) consumerLoaded(w *runtime.Writer) {
	for gid, g := range s.groups {
		if g.consumer == nil {
			continue
		}
		for mid, m := range g.consumer.members {
			s.scheduleSession(w, gid, mid)
			if m.state == memberUnrevoked {
				s.scheduleRebalance(w, gid, m)
			}
		}
	}
}
