package group

import (
	"crypto/rand"
	"encoding/base64"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/model"
)

// hbPlan is what a heartbeat is to do, decided before anything is
// written, so a refused heartbeat writes nothing (Kafka's records of a
// failed operation are dropped the same way).
type hbPlan struct {
	gid      string
	memberID string
	convert  bool     // an empty classic group becomes a consumer group
	replaced *cmember // a static member that left (-2), taken over by this one
}

// planHeartbeat finds the group and the member of a joining or
// heartbeating member (epoch >= 0) and checks the member may go on.
func (s *shard) planHeartbeat(req *kmsg.ConsumerGroupHeartbeatRequest) (hbPlan, *cgError) {
	p := hbPlan{gid: req.Group, memberID: req.MemberID}
	joining := req.MemberEpoch == joinEpoch
	g := s.groups[req.Group]
	var cg *consumerGroup
	switch {
	case g != nil && g.consumer != nil:
		cg = g.consumer
	case g == nil && joining:
	case g == nil:
		// UNKNOWN_MEMBER_ID, not GROUP_ID_NOT_FOUND: the member rejoins.
		return p, cgErrorf(codeUnknownMemberID, "Consumer group %s not found.", req.Group)
	case joining && g.state == Empty:
		p.convert = true // Kafka's maybeDeleteEmptyClassicGroup
	default:
		return p, cgErrorf(codeGroupIDNotFound, "Group %s is not a consumer group.", req.Group)
	}
	if p.memberID == "" {
		p.memberID = newMemberID() // v0: the coordinator names a joining member
	}
	if cg == nil {
		return p, nil
	}
	if len(cg.members) >= s.opts.ConsumerMaxGroupSize && cg.members[p.memberID] == nil && !s.replacesStatic(cg, req) {
		return p, cgErrorf(codeGroupMaxSizeReached, "The consumer group has reached its maximum capacity of %d members.", s.opts.ConsumerMaxGroupSize)
	}
	if req.InstanceID != nil {
		return p, s.planStatic(cg, req, &p)
	}
	m := cg.members[p.memberID]
	switch {
	case m == nil && !joining:
		return p, cgErrorf(codeUnknownMemberID, "Member %s is not a member of group %s.", p.memberID, req.Group)
	case m == nil || joining:
		return p, nil // a new member, or one rejoining in place
	}
	return p, checkMemberEpoch(m, req)
}

// planStatic resolves a static member (group.instance.id, KIP-345): a
// join takes over the instance if its old member left with epoch -2, is
// UNRELEASED_INSTANCE_ID if that member is still there; a heartbeat must
// come from the member that holds the instance.
func (s *shard) planStatic(cg *consumerGroup, req *kmsg.ConsumerGroupHeartbeatRequest, p *hbPlan) *cgError {
	inst := *req.InstanceID
	cur := cg.members[cg.static[inst]]
	if req.MemberEpoch == joinEpoch {
		switch {
		case cur == nil || cur.id == p.memberID:
			return nil
		case cur.epoch != staticLeaveEpoch:
			return cgErrorf(codeUnreleasedInstanceID, "Static member %s with instance id %s cannot join the group because the instance id is owned by %s member.", p.memberID, inst, cur.id)
		}
		p.replaced = cur
		return nil
	}
	switch {
	case cur == nil:
		return cgErrorf(codeUnknownMemberID, "Instance id %s is unknown.", inst)
	case cur.id != p.memberID:
		return cgErrorf(codeFencedInstanceID, "Static member %s with instance id %s was fenced by member %s.", p.memberID, inst, cur.id)
	}
	return checkMemberEpoch(cur, req)
}

// replacesStatic: a joining static member takes over a member that left,
// which does not grow the group.
func (s *shard) replacesStatic(cg *consumerGroup, req *kmsg.ConsumerGroupHeartbeatRequest) bool {
	if req.InstanceID == nil || req.MemberEpoch != joinEpoch {
		return false
	}
	cur := cg.members[cg.static[*req.InstanceID]]
	return cur != nil && cur.epoch == staticLeaveEpoch
}

// checkMemberEpoch is Kafka's throwIfMemberEpochIsInvalid: the member
// must heartbeat with its epoch, or with its previous one while it owns
// a subset of its assignment (the answer that bumped it was lost). A
// member in a state this broker does not know must rejoin empty-handed.
func checkMemberEpoch(m *cmember, req *kmsg.ConsumerGroupHeartbeatRequest) *cgError {
	switch e := req.MemberEpoch; {
	case e > m.epoch:
		return cgErrorf(codeFencedMemberEpoch, "The consumer group member has a greater member epoch (%d) than the one known by the group coordinator (%d). The member must abandon all its partitions and rejoin.", e, m.epoch)
	case e < m.epoch && (e != m.prevEpoch || req.Topics == nil || !ownsSubset(req.Topics, m.assigned)):
		return cgErrorf(codeFencedMemberEpoch, "The consumer group member has a smaller member epoch (%d) than the one known by the group coordinator (%d). The member must abandon all its partitions and rejoin.", e, m.epoch)
	case m.state == memberUnknown && (req.Topics == nil || len(req.Topics) > 0):
		return cgErrorf(codeFencedMemberEpoch, "The consumer group member is in a unknown state. The member must abandon all its partitions and rejoin.")
	}
	return nil
}

// ownsSubset: every partition the member reports is assigned to it.
func ownsSubset(owned []kmsg.ConsumerGroupHeartbeatRequestTopic, assigned parts) bool {
	for _, t := range owned {
		for _, p := range t.Partitions {
			if !assigned.has(model.TopicID(t.TopicID), p) {
				return false
			}
		}
	}
	return true
}

// ownsAny: the member reports owning one of p. A member that does not
// report (nil) is taken to still own everything.
func ownsAny(owned []kmsg.ConsumerGroupHeartbeatRequestTopic, p parts) bool {
	if owned == nil {
		return true
	}
	for _, t := range owned {
		for _, pt := range t.Partitions {
			if p.has(model.TopicID(t.TopicID), pt) {
				return true
			}
		}
	}
	return false
}

// newMemberID is a member id as Kafka makes one (Uuid.toString: 16
// random bytes, URL-safe base64 without padding).
func newMemberID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
