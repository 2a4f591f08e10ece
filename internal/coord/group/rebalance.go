package group

import (
	"time"

	"github.com/sluice-io/sluice/internal/coord/runtime"
)

// Timer keys: one join-phase timer and one sync timer per group, one
// heartbeat timer per member.
func joinKey(g *group) string                 { return "join/" + g.id }
func syncKey(g *group) string                 { return "sync/" + g.id }
func heartbeatKey(g *group, id string) string { return "heartbeat/" + g.id + "/" + id }

func ms(v int32) time.Duration { return time.Duration(v) * time.Millisecond }

// maybePrepareRebalanceOrCompleteJoin starts a rebalance when the group
// may, else tries to end the join phase already running.
func (s *shard) maybePrepareRebalanceOrCompleteJoin(w *runtime.Writer, g *group) {
	switch g.state {
	case Stable, CompletingRebalance, Empty:
		s.prepareRebalance(w, g)
	default:
		s.maybeCompleteJoinPhase(w, g)
	}
}

// prepareRebalance moves the group to PreparingRebalance: members
// waiting in SyncGroup are told REBALANCE_IN_PROGRESS, and the join phase
// ends when every member rejoined or at the rebalance timeout. The first
// rebalance of an empty group waits group.initial.rebalance.delay.ms for
// more members, extended while they keep coming, up to the rebalance
// timeout.
func (s *shard) prepareRebalance(w *runtime.Writer, g *group) {
	if g.state == CompletingRebalance {
		for _, m := range g.members {
			m.assignment = nil
		}
		s.propagateAssignment(w, g, codeRebalanceInProgress)
	}
	w.Cancel(syncKey(g))
	clear(g.pendingSync)
	initial := g.state == Empty
	g.transition(PreparingRebalance, w.Now().UnixMilli())
	if initial {
		delay := s.opts.InitialRebalanceDelay
		remaining := max(ms(g.rebalanceTimeoutMs())-delay, 0)
		s.scheduleInitialJoin(w, g, delay, remaining)
		return
	}
	if g.hasAllJoined() {
		s.completeJoinPhase(w, g)
		return
	}
	s.scheduleJoin(w, g, ms(g.rebalanceTimeoutMs()))
}

func (s *shard) scheduleJoin(w *runtime.Writer, g *group, d time.Duration) {
	id := g.id
	w.Schedule(joinKey(g), d, func(w *runtime.Writer) {
		if g := s.groups[id]; g != nil {
			s.completeJoinPhase(w, g)
		}
	})
}

func (s *shard) scheduleInitialJoin(w *runtime.Writer, g *group, delay, remaining time.Duration) {
	id := g.id
	w.Schedule(joinKey(g), delay, func(w *runtime.Writer) {
		g := s.groups[id]
		if g == nil {
			return
		}
		if g.newMember && remaining != 0 {
			g.newMember = false
			next := min(s.opts.InitialRebalanceDelay, remaining)
			s.scheduleInitialJoin(w, g, next, max(remaining-delay, 0))
			return
		}
		s.completeJoinPhase(w, g)
	})
}

// maybeCompleteJoinPhase ends the join phase once every member rejoined,
// except during the initial delay.
func (s *shard) maybeCompleteJoinPhase(w *runtime.Writer, g *group) {
	if g.state == PreparingRebalance && g.prevState != Empty && g.hasAllJoined() {
		s.completeJoinPhase(w, g)
	}
}

// completeJoinPhase ends the join phase: dynamic members that did not
// rejoin are dropped, the generation advances, the protocol is selected
// and every joined member gets its answer (the leader with all members'
// metadata). An emptied group becomes Empty and is persisted.
func (s *shard) completeJoinPhase(w *runtime.Writer, g *group) {
	if g.state != PreparingRebalance {
		return
	}
	w.Cancel(joinKey(g))
	for _, id := range append([]string(nil), g.order...) {
		if m := g.members[id]; m.join == nil && m.instanceID == nil {
			s.cancelHeartbeat(w, g, id)
			g.remove(id)
		}
	}
	if !s.electJoinedLeader(g) && len(g.members) > 0 {
		// Only static members that did not rejoin are left: wait for
		// them, or for their session timeouts.
		s.scheduleJoin(w, g, ms(g.rebalanceTimeoutMs()))
		return
	}
	now := w.Now().UnixMilli()
	g.generation++
	if len(g.members) == 0 {
		g.protocol = ""
		g.subscribed = g.computeSubscribed()
		g.transition(Empty, now)
		w.AppendApplied(groupKey(g.id), groupValue(g))
		return
	}
	g.protocol = g.selectProtocol()
	g.subscribed = g.computeSubscribed()
	g.transition(CompletingRebalance, now)
	for _, id := range g.order {
		m := g.members[id]
		s.completeJoin(w, g, m, s.joinResponse(g, m.id, m.joinVer, g.isLeader(m.id)))
		s.scheduleHeartbeat(w, g, m, m.sessionTimeoutMs)
		m.isNew = false
		g.pendingSync[m.id] = struct{}{}
	}
	s.schedulePendingSync(w, g)
}

// electJoinedLeader keeps a leader that rejoined, else picks the first
// member that did; false when none did.
func (s *shard) electJoinedLeader(g *group) bool {
	if l := g.members[g.leader]; l != nil && l.join != nil {
		return true
	}
	for _, id := range g.order {
		if g.members[id].join != nil {
			g.leader = id
			return true
		}
	}
	return false
}

// schedulePendingSync removes, after the rebalance timeout, the members
// that did not send SyncGroup, and rebalances without them.
func (s *shard) schedulePendingSync(w *runtime.Writer, g *group) {
	id, gen := g.id, g.generation
	w.Schedule(syncKey(g), ms(g.rebalanceTimeoutMs()), func(w *runtime.Writer) {
		g := s.groups[id]
		if g == nil || g.generation != gen || (g.state != CompletingRebalance && g.state != Stable) {
			return
		}
		if len(g.pendingSync) == 0 {
			return
		}
		for mid := range g.pendingSync {
			s.cancelHeartbeat(w, g, mid)
			s.removeAnswering(w, g, mid)
		}
		s.prepareRebalance(w, g)
	})
}

// scheduleHeartbeat (re)arms a member's session timeout.
func (s *shard) scheduleHeartbeat(w *runtime.Writer, g *group, m *member, timeoutMs int32) {
	gid, mid := g.id, m.id
	w.Schedule(heartbeatKey(g, mid), ms(timeoutMs), func(w *runtime.Writer) {
		if g := s.groups[gid]; g != nil {
			s.expireHeartbeat(w, g, mid)
		}
	})
}

func (s *shard) cancelHeartbeat(w *runtime.Writer, g *group, id string) {
	w.Cancel(heartbeatKey(g, id))
}

// expireHeartbeat removes a member whose session timed out (a pending
// member that never rejoined too), and rebalances.
func (s *shard) expireHeartbeat(w *runtime.Writer, g *group, id string) {
	if g.state == Dead {
		return
	}
	if _, ok := g.pending[id]; ok {
		g.remove(id)
		s.maybeCompleteJoinPhaseNow(w, g)
		return
	}
	m := g.members[id]
	if m == nil || m.hasSatisfiedHeartbeat() {
		return
	}
	s.removeMemberAndRebalance(w, g, id)
}

// removeMemberAndRebalance drops a member (its parked join answered
// UNKNOWN_MEMBER_ID, so a live client rejoins) and rebalances.
func (s *shard) removeMemberAndRebalance(w *runtime.Writer, g *group, id string) {
	s.removeAnswering(w, g, id)
	switch g.state {
	case Stable, CompletingRebalance:
		s.maybePrepareRebalanceOrCompleteJoin(w, g)
	case PreparingRebalance:
		s.maybeCompleteJoinPhaseNow(w, g)
	}
}

// maybeCompleteJoinPhaseNow ends the join phase once all members joined,
// even during the initial delay (a member left: nobody else to wait for).
func (s *shard) maybeCompleteJoinPhaseNow(w *runtime.Writer, g *group) {
	if g.state == PreparingRebalance && g.hasAllJoined() {
		s.completeJoinPhase(w, g)
	}
}

// removeAnswering removes a member and answers what it had parked.
func (s *shard) removeAnswering(w *runtime.Writer, g *group, id string) {
	m := g.members[id]
	if m == nil {
		g.remove(id)
		return
	}
	s.completeJoin(w, g, m, joinErrorResponse(m.joinVer, "", codeUnknownMemberID))
	if m.sync != nil {
		r := syncErrorResponse(codeUnknownMemberID)
		s.replySync(w, m.sync, r)
		m.sync = nil
	}
	g.remove(id)
}
