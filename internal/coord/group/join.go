package group

import (
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/coord/runtime"
)

// client is who sent a request.
type client struct {
	id   string // client.id from the request header
	host string // Kafka's form: "/" + IP
}

// join handles a JoinGroup (already checked: group id, session timeout).
// The answer goes to respond, now or when the rebalance completes.
func (s *shard) join(w *runtime.Writer, req *kmsg.JoinGroupRequest, cl client, respond joinResponder) {
	if !s.joinConsumerGroup(w, req.Group) { // consumer_convert.go
		s.replyJoin(w, respond, joinErrorResponse(req.Version, req.MemberID, codeInconsistentProtocol))
		return
	}
	g := s.groups[req.Group]
	isNew := g == nil
	if isNew {
		if req.MemberID != "" {
			// A member id for a group that is gone: start over.
			s.replyJoin(w, respond, joinErrorResponse(req.Version, req.MemberID, codeUnknownMemberID))
			return
		}
		g = newGroup(req.Group, w.Now().UnixMilli())
		s.groups[req.Group] = g
	}
	switch {
	case !s.acceptsJoin(g, req.MemberID):
		s.replyJoin(w, respond, joinErrorResponse(req.Version, "", codeGroupMaxSizeReached))
	case req.MemberID == "":
		s.joinNewMember(w, g, req, cl, respond)
	default:
		s.joinKnownMember(w, g, req, cl, respond)
	}
	if isNew && w.Records() == 0 {
		// Persist the new group, as Kafka does, so it outlives a
		// restart: empty, its members join again.
		w.AppendApplied(groupKey(g.id), emptyGroupValue(g))
	}
}

// acceptsJoin applies group.max.size.
func (s *shard) acceptsJoin(g *group, memberID string) bool {
	m := g.members[memberID]
	switch g.state {
	case PreparingRebalance:
		return (m != nil && m.join != nil) || g.awaitingJoin < s.opts.MaxGroupSize
	case CompletingRebalance, Stable:
		return m != nil || len(g.members) < s.opts.MaxGroupSize
	}
	return true
}

func (s *shard) joinNewMember(w *runtime.Writer, g *group, req *kmsg.JoinGroupRequest, cl client, respond joinResponder) {
	switch {
	case g.state == Dead:
		s.replyJoin(w, respond, joinErrorResponse(req.Version, "", codeCoordinatorNotAvailable))
		return
	case !g.supports(req.ProtocolType, req.Protocols):
		s.replyJoin(w, respond, joinErrorResponse(req.Version, "", codeInconsistentProtocol))
		return
	}
	prefix := cl.id
	if req.InstanceID != nil {
		prefix = *req.InstanceID
	}
	id := prefix + "-" + newUUID()
	if req.InstanceID != nil {
		if old, ok := g.static[*req.InstanceID]; ok {
			s.replaceStaticMember(w, g, req, cl, old, id, respond)
			return
		}
		s.addMemberAndRebalance(w, g, req, cl, id, respond)
		return
	}
	if req.Version >= 4 {
		// KIP-394: hand out the id and wait for a join that carries it,
		// so a client that gives up on its join leaves no ghost member.
		g.pending[id] = struct{}{}
		s.scheduleHeartbeat(w, g, &member{id: id}, req.SessionTimeoutMillis)
		s.replyJoin(w, respond, joinErrorResponse(req.Version, id, codeMemberIDRequired))
		return
	}
	s.addMemberAndRebalance(w, g, req, cl, id, respond)
}

func (s *shard) joinKnownMember(w *runtime.Writer, g *group, req *kmsg.JoinGroupRequest, cl client, respond joinResponder) {
	switch {
	case g.state == Dead:
		s.replyJoin(w, respond, joinErrorResponse(req.Version, req.MemberID, codeCoordinatorNotAvailable))
		return
	case !g.supports(req.ProtocolType, req.Protocols):
		s.replyJoin(w, respond, joinErrorResponse(req.Version, req.MemberID, codeInconsistentProtocol))
		return
	}
	if _, ok := g.pending[req.MemberID]; ok {
		s.addMemberAndRebalance(w, g, req, cl, req.MemberID, respond)
		return
	}
	if code := g.validateMember(req.MemberID, req.InstanceID); code != 0 {
		s.replyJoin(w, respond, joinErrorResponse(req.Version, req.MemberID, code))
		return
	}
	m := g.members[req.MemberID]
	switch g.state {
	case PreparingRebalance:
		s.updateMemberAndRebalance(w, g, m, req, respond)
	case CompletingRebalance:
		if !m.sameProtocols(req.Protocols) {
			s.updateMemberAndRebalance(w, g, m, req, respond)
			return
		}
		// The member missed its join response: send it again.
		s.replyJoin(w, respond, s.joinResponse(g, m.id, req.Version, g.isLeader(m.id)))
	case Stable:
		if g.isLeader(m.id) || !m.sameProtocols(req.Protocols) {
			// A leader rejoins to make the group reassign (topic
			// metadata changed); anyone with new metadata does too.
			s.updateMemberAndRebalance(w, g, m, req, respond)
			return
		}
		s.replyJoin(w, respond, s.joinResponse(g, m.id, req.Version, false))
	default:
		s.replyJoin(w, respond, joinErrorResponse(req.Version, req.MemberID, codeUnknownMemberID))
	}
}

// addMemberAndRebalance adds a member with its join parked.
func (s *shard) addMemberAndRebalance(w *runtime.Writer, g *group, req *kmsg.JoinGroupRequest, cl client, id string, respond joinResponder) {
	m := &member{id: id, instanceID: req.InstanceID, clientID: cl.id, clientHost: cl.host,
		rebalanceTimeoutMs: rebalanceTimeout(req), sessionTimeoutMs: req.SessionTimeoutMillis,
		protocolType: req.ProtocolType, protocols: cloneProtocols(req.Protocols), isNew: true,
		join: respond, joinVer: req.Version}
	if g.state == PreparingRebalance && g.prevState == Empty {
		g.newMember = true // extends the initial rebalance delay
	}
	g.add(m)
	// A new member cannot heartbeat while its join is parked; bound how
	// long a join abandoned by its client keeps it.
	s.scheduleHeartbeat(w, g, m, int32(s.opts.NewMemberJoinTimeout/time.Millisecond))
	s.maybePrepareRebalanceOrCompleteJoin(w, g)
}

// updateMemberAndRebalance takes a known member's new join.
func (s *shard) updateMemberAndRebalance(w *runtime.Writer, g *group, m *member, req *kmsg.JoinGroupRequest, respond joinResponder) {
	s.updateMember(w, g, m, req, respond)
	s.maybePrepareRebalanceOrCompleteJoin(w, g)
}

func (s *shard) updateMember(w *runtime.Writer, g *group, m *member, req *kmsg.JoinGroupRequest, respond joinResponder) {
	g.setProtocols(m, req.Protocols)
	m.rebalanceTimeoutMs, m.sessionTimeoutMs = rebalanceTimeout(req), req.SessionTimeoutMillis
	if m.join != nil {
		// A second join replaces the first, whose client gave up.
		s.replyJoin(w, m.join, joinErrorResponse(m.joinVer, m.id, codeRebalanceInProgress))
	} else {
		g.awaitingJoin++
	}
	m.join, m.joinVer = respond, req.Version
}

// replaceStaticMember gives a static member that rejoins with no member
// id a new member id (KIP-345): the old id is fenced, its parked requests
// answered FENCED_INSTANCE_ID. A stable group whose selected protocol
// does not change keeps its assignment: no rebalance.
func (s *shard) replaceStaticMember(w *runtime.Writer, g *group, req *kmsg.JoinGroupRequest, cl client, oldID, newID string, respond joinResponder) {
	oldLeader := g.leader
	wasLeader := g.isLeader(oldID)
	s.cancelHeartbeat(w, g, oldID)
	old := g.remove(oldID)
	s.fence(w, old)
	m := &member{id: newID, instanceID: old.instanceID, clientID: cl.id, clientHost: cl.host,
		rebalanceTimeoutMs: old.rebalanceTimeoutMs, sessionTimeoutMs: old.sessionTimeoutMs,
		protocolType: old.protocolType, protocols: old.protocols, assignment: old.assignment}
	g.add(m)
	if wasLeader {
		g.leader = newID
	}
	if _, ok := g.pendingSync[oldID]; ok {
		delete(g.pendingSync, oldID)
		g.pendingSync[newID] = struct{}{}
	}
	s.scheduleHeartbeat(w, g, m, m.sessionTimeoutMs)
	s.updateMember(w, g, m, req, respond)
	switch g.state {
	case Stable:
		if g.selectProtocol() != g.protocol {
			s.maybePrepareRebalanceOrCompleteJoin(w, g)
			return
		}
		w.AppendApplied(groupKey(g.id), groupValue(g))
		leader := oldLeader
		skip := false
		if req.Version >= 9 {
			// KIP-814: the new leader is told to keep the assignment.
			leader, skip = g.leader, g.isLeader(newID)
		}
		r := s.joinResponse(g, newID, req.Version, skip)
		r.LeaderID, r.SkipAssignment = leader, skip
		s.completeJoin(w, g, m, r)
	case CompletingRebalance:
		// The leader may be assigning to the old id: assign again.
		s.prepareRebalance(w, g)
	default:
		s.maybeCompleteJoinPhase(w, g)
	}
}

// fence answers a replaced static member's parked requests.
func (s *shard) fence(w *runtime.Writer, m *member) {
	if m.join != nil {
		s.replyJoin(w, m.join, joinErrorResponse(m.joinVer, m.id, codeFencedInstanceID))
		m.join = nil
	}
	if m.sync != nil {
		r := kmsg.NewPtrSyncGroupResponse()
		r.ErrorCode = codeFencedInstanceID
		s.replySync(w, m.sync, r)
		m.sync = nil
	}
}

// joinResponse is the group as a member sees it after a join; the leader
// (withMembers) gets every member's metadata for the selected protocol.
func (s *shard) joinResponse(g *group, memberID string, version int16, withMembers bool) *kmsg.JoinGroupResponse {
	r := kmsg.NewPtrJoinGroupResponse()
	r.Version = version
	r.MemberID, r.Generation, r.LeaderID = memberID, g.generation, g.leader
	r.ProtocolType, r.Protocol = strPtr(g.protocolType), strPtr(g.protocol)
	if withMembers {
		for _, id := range g.order {
			m := g.members[id]
			rm := kmsg.NewJoinGroupResponseMember()
			rm.MemberID, rm.InstanceID, rm.ProtocolMetadata = m.id, m.instanceID, m.metadataFor(g.protocol)
			r.Members = append(r.Members, rm)
		}
	}
	return r
}

// completeJoin answers a member's parked join (once durable).
func (s *shard) completeJoin(w *runtime.Writer, g *group, m *member, r *kmsg.JoinGroupResponse) bool {
	if m.join == nil {
		return false
	}
	r.Version = m.joinVer
	s.replyJoin(w, m.join, r)
	m.join = nil
	g.awaitingJoin--
	return true
}

// replyJoin sends r once everything the op wrote is durable, or the
// error that stopped the shard.
func (s *shard) replyJoin(w *runtime.Writer, respond joinResponder, r *kmsg.JoinGroupResponse) {
	w.Then(func(err error) {
		if err != nil {
			r = joinErrorResponse(r.Version, r.MemberID, runtimeCode(err))
		}
		respond(r)
	})
}

func joinErrorResponse(version int16, memberID string, code int16) *kmsg.JoinGroupResponse {
	r := kmsg.NewPtrJoinGroupResponse()
	r.Version, r.MemberID, r.ErrorCode = version, memberID, code
	return r
}

// rebalanceTimeout of a join: v0 has none and uses the session timeout.
func rebalanceTimeout(req *kmsg.JoinGroupRequest) int32 {
	if req.Version == 0 || req.RebalanceTimeoutMillis < 0 {
		return req.SessionTimeoutMillis
	}
	return req.RebalanceTimeoutMillis
}

// newUUID is a random UUID in its usual text form, as Kafka's member ids
// carry one.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
