package group

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/coord/runtime"
)

// leave handles a LeaveGroup: v0-2 name one member, v3+ a batch
// (KIP-345), where a static member may be named by its instance id alone
// (an admin removing it). Members that left trigger one rebalance.
func (s *shard) leave(w *runtime.Writer, req *kmsg.LeaveGroupRequest) *kmsg.LeaveGroupResponse {
	r := kmsg.NewPtrLeaveGroupResponse()
	members := req.Members
	if req.Version < 3 {
		members = []kmsg.LeaveGroupRequestMember{{MemberID: req.MemberID}}
	}
	g := s.groups[req.Group]
	switch {
	case g == nil:
		r.ErrorCode = codeUnknownMemberID
		return r
	case g.state == Dead:
		r.ErrorCode = codeCoordinatorNotAvailable
		return r
	}
	left := 0
	for _, lm := range members {
		rm := kmsg.NewLeaveGroupResponseMember()
		rm.MemberID, rm.InstanceID = lm.MemberID, lm.InstanceID
		rm.ErrorCode = s.leaveOne(w, g, lm)
		if rm.ErrorCode == 0 {
			left++
		}
		r.Members = append(r.Members, rm)
	}
	if left > 0 {
		switch g.state {
		case Stable, CompletingRebalance:
			s.maybePrepareRebalanceOrCompleteJoin(w, g)
		case PreparingRebalance:
			s.maybeCompleteJoinPhase(w, g)
		}
	}
	if req.Version < 3 {
		r.ErrorCode = r.Members[0].ErrorCode
		r.Members = nil
	}
	return r
}

func (s *shard) leaveOne(w *runtime.Writer, g *group, lm kmsg.LeaveGroupRequestMember) int16 {
	id := lm.MemberID
	if id == "" {
		if lm.InstanceID == nil {
			return codeUnknownMemberID
		}
		cur, ok := g.static[*lm.InstanceID]
		if !ok {
			return codeUnknownMemberID
		}
		id = cur
	} else if _, ok := g.pending[id]; ok {
		s.cancelHeartbeat(w, g, id)
		g.remove(id)
		return 0
	} else if code := g.validateMember(id, lm.InstanceID); code != 0 {
		return code
	}
	s.cancelHeartbeat(w, g, id)
	s.removeAnswering(w, g, id)
	return 0
}
