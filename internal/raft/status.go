package raft

import (
	"context"
	"slices"
	"time"

	etcdraft "go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
)

// Status is the quorum as one voter sees it (Kafka's DescribeQuorum).
type Status struct {
	Leader uint64 // 0 when none is known
	Term   uint64
	// Commit is the highest committed index this voter knows.
	Commit uint64
	// Voters, by id, as of the applied configuration. Match and the
	// times are known only on the leader (zero elsewhere).
	Voters []VoterStatus
}

// VoterStatus is one voter's replication state on the leader.
type VoterStatus struct {
	ID uint64
	// Match is the highest index known to be in the voter's log.
	Match uint64
	// LastContact is when the leader last heard from the voter (now for
	// itself); LastCaughtUp when the voter last acknowledged the
	// leader's whole log.
	LastContact, LastCaughtUp time.Time
}

// Status returns the quorum's status as this voter sees it.
func (n *Node) Status(ctx context.Context) (Status, error) {
	out := make(chan Status, 1)
	f := func(rn *etcdraft.RawNode) { out <- n.status(rn) }
	select {
	case n.reportc <- f:
	case <-ctx.Done():
		return Status{}, ctx.Err()
	case <-n.donec:
		return Status{}, n.stopErr()
	}
	select {
	case st := <-out:
		return st, nil
	case <-ctx.Done():
		return Status{}, ctx.Err()
	case <-n.donec:
		return Status{}, n.stopErr()
	}
}

// status runs on the loop.
func (n *Node) status(rn *etcdraft.RawNode) Status {
	st := rn.Status()
	out := Status{Leader: st.Lead, Term: st.HardState.GetTerm(), Commit: st.HardState.GetCommit()}
	last, _ := n.ms.LastIndex()
	now := time.Now()
	for _, id := range n.confState.GetVoters() {
		v := VoterStatus{ID: id}
		if st.RaftState == etcdraft.StateLeader {
			if id == n.id {
				v.Match, v.LastContact, v.LastCaughtUp = last, now, now
			} else if pr, ok := st.Progress[id]; ok {
				v.Match = pr.Match
				v.LastContact = n.contact[id]
				if pr.Match >= last {
					n.caughtUp[id] = v.LastContact
				}
				v.LastCaughtUp = n.caughtUp[id]
			}
		}
		out.Voters = append(out.Voters, v)
	}
	slices.SortFunc(out.Voters, func(a, b VoterStatus) int { return int(a.ID) - int(b.ID) })
	return out
}

// noteContact records, on the loop, when a peer was last heard from and
// when it last acknowledged this node's whole log.
func (n *Node) noteContact(m *raftpb.Message) {
	now := time.Now()
	n.contact[m.GetFrom()] = now
	if m.GetType() == raftpb.MsgAppResp && !m.GetReject() {
		if last, _ := n.ms.LastIndex(); m.GetIndex() >= last {
			n.caughtUp[m.GetFrom()] = now
		}
	}
}
