package group

import (
	"slices"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/coord/runtime"
)

// sync handles a SyncGroup. In CompletingRebalance the member's request
// is parked; the leader's carries the assignment, which is persisted with
// the group, after which every parked member gets its share and the group
// is Stable. In Stable the member gets its assignment at once.
func (s *shard) sync(w *runtime.Writer, req *kmsg.SyncGroupRequest, respond syncResponder) {
	g := s.groups[req.Group]
	if g == nil {
		s.replySync(w, respond, syncErrorResponse(codeUnknownMemberID))
		return
	}
	if code := s.validateSync(g, req); code != 0 {
		s.replySync(w, respond, syncErrorResponse(code))
		return
	}
	m := g.members[req.MemberID]
	switch g.state {
	case PreparingRebalance:
		s.replySync(w, respond, syncErrorResponse(codeRebalanceInProgress))
	case CompletingRebalance:
		if m.sync != nil {
			s.replySync(w, m.sync, syncErrorResponse(codeRebalanceInProgress))
		}
		m.sync, m.syncProto = respond, req.Version >= 5
		s.removePendingSync(w, g, m.id)
		if g.isLeader(m.id) {
			s.completeLeaderSync(w, g, req)
		}
	case Stable:
		s.removePendingSync(w, g, m.id)
		r := s.syncResponse(g, m, req.Version >= 5)
		s.replySync(w, respond, r)
	default:
		s.replySync(w, respond, syncErrorResponse(codeUnknownMemberID))
	}
}

func (s *shard) validateSync(g *group, req *kmsg.SyncGroupRequest) int16 {
	if g.state == Dead {
		return codeCoordinatorNotAvailable
	}
	if code := g.validateMember(req.MemberID, req.InstanceID); code != 0 {
		return code
	}
	switch {
	case req.Generation != g.generation:
		return codeIllegalGeneration
	case inconsistent(req.ProtocolType, g.protocolType), inconsistent(req.Protocol, g.protocol):
		return codeInconsistentProtocol
	}
	return 0
}

// inconsistent: the request names a protocol (v5+) other than the group's.
func inconsistent(req *string, group string) bool {
	return req != nil && group != "" && *req != group
}

// completeLeaderSync stores the leader's assignment (members it left out
// get an empty one), persists the group and hands out the assignment.
func (s *shard) completeLeaderSync(w *runtime.Writer, g *group, req *kmsg.SyncGroupRequest) {
	for _, m := range g.members {
		m.assignment = []byte{}
	}
	for _, a := range req.GroupAssignment {
		if m := g.members[a.MemberID]; m != nil {
			m.assignment = slices.Clone(a.MemberAssignment)
		}
	}
	g.transition(Stable, w.Now().UnixMilli())
	w.AppendApplied(groupKey(g.id), groupValue(g))
	s.propagateAssignment(w, g, 0)
}

// propagateAssignment answers every parked SyncGroup with the member's
// assignment, or with code, and restarts its session timeout.
func (s *shard) propagateAssignment(w *runtime.Writer, g *group, code int16) {
	for _, id := range g.order {
		m := g.members[id]
		if m.sync == nil {
			continue
		}
		r := syncErrorResponse(code)
		if code == 0 {
			r = s.syncResponse(g, m, m.syncProto)
		}
		s.replySync(w, m.sync, r)
		m.sync = nil
		s.scheduleHeartbeat(w, g, m, m.sessionTimeoutMs)
	}
}

func (s *shard) syncResponse(g *group, m *member, withProtocol bool) *kmsg.SyncGroupResponse {
	r := kmsg.NewPtrSyncGroupResponse()
	if withProtocol {
		r.ProtocolType, r.Protocol = strPtr(g.protocolType), strPtr(g.protocol)
	}
	r.MemberAssignment = m.assignment
	if r.MemberAssignment == nil {
		r.MemberAssignment = []byte{}
	}
	return r
}

// removePendingSync notes a member's SyncGroup; the sync timer stops once
// all members sent theirs.
func (s *shard) removePendingSync(w *runtime.Writer, g *group, id string) {
	delete(g.pendingSync, id)
	if len(g.pendingSync) == 0 {
		w.Cancel(syncKey(g))
	}
}

// replySync sends r once everything the op wrote is durable, or the
// error that stopped the shard.
func (s *shard) replySync(w *runtime.Writer, respond syncResponder, r *kmsg.SyncGroupResponse) {
	w.Then(func(err error) {
		if err != nil {
			r = syncErrorResponse(runtimeCode(err))
		}
		respond(r)
	})
}

func syncErrorResponse(code int16) *kmsg.SyncGroupResponse {
	r := kmsg.NewPtrSyncGroupResponse()
	r.ErrorCode = code
	if code != 0 {
		r.MemberAssignment = []byte{}
	}
	return r
}
