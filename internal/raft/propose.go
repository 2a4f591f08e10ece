package raft

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	etcdraft "go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// A proposal's entry data is an envelope: the 8-byte proposal id
// (little-endian) the proposing node uses to find its waiter when the entry
// is applied, then the payload. The state machine sees only the payload.
// An entry with no data is raft's own (the new leader's empty entry).
const envelopeSize = 8

// proposal is one Propose call waiting for its entry to be applied.
type proposal struct {
	data []byte             // envelope; the loop writes the id
	term uint64             // 0, or the only term it may be appended in
	done chan proposeResult // buffered: the loop never blocks on it
}

type proposeResult struct {
	index uint64
	err   error
}

// Propose appends data to the log and returns once the entry is committed
// and applied to this node's state machine, with its index. It fails with
// ErrNotLeader when this node is not the leader (see Leader), with
// ErrLeadershipLost when leadership moved before the entry was applied (the
// outcome is then unknown), and with ctx's error when ctx ends first (the
// entry may still be applied).
func (n *Node) Propose(ctx context.Context, data []byte) (uint64, error) {
	return n.ProposeInTerm(ctx, 0, data)
}

// ProposeInTerm is Propose for a caller that computed data while this
// node led in term (LeaderTerm): the entry is appended only if the node
// still leads in that term, else ErrNotLeader. Term 0 is any term. A
// leader that lost and regained leadership meanwhile may not have
// applied what another leader committed in between.
func (n *Node) ProposeInTerm(ctx context.Context, term uint64, data []byte) (uint64, error) {
	if len(data) > MaxEntryBytes {
		return 0, fmt.Errorf("%w: %d bytes", ErrEntryTooLarge, len(data))
	}
	env := make([]byte, envelopeSize+len(data))
	copy(env[envelopeSize:], data)
	p := &proposal{data: env, term: term, done: make(chan proposeResult, 1)}
	select {
	case n.propc <- p:
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-n.donec:
		return 0, n.stopErr()
	}
	select {
	case r := <-p.done:
		return r.index, r.err
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-n.donec:
		// stop fails every waiter before closing donec.
		select {
		case r := <-p.done:
			return r.index, r.err
		default:
			return 0, n.stopErr()
		}
	}
}

// propose runs on the loop: hand p to raft and remember its waiter.
func (n *Node) propose(p *proposal) {
	if st := n.rn.BasicStatus(); st.RaftState != etcdraft.StateLeader || (p.term != 0 && st.HardState.GetTerm() != p.term) {
		p.done <- proposeResult{err: ErrNotLeader}
		return
	}
	id := n.nextID
	n.nextID++
	binary.LittleEndian.PutUint64(p.data, id)
	if err := n.rn.Propose(p.data); err != nil {
		if errors.Is(err, etcdraft.ErrProposalDropped) {
			err = ErrNotLeader // e.g. a leadership transfer is under way
		}
		p.done <- proposeResult{err: err}
		return
	}
	n.waiters[id] = p
}

// apply hands committed entries to the state machine in order and
// completes their waiters.
func (n *Node) apply(ents []*raftpb.Entry) error {
	for _, e := range ents {
		index := e.GetIndex()
		if index <= n.applied.Load() {
			continue // Invariant: raft never hands out an applied entry twice
		}
		var err error
		switch e.GetType() {
		case raftpb.EntryNormal:
			err = n.applyNormal(index, e.GetData())
		case raftpb.EntryConfChange:
			cc := &raftpb.ConfChange{}
			if err = proto.Unmarshal(e.GetData(), cc); err == nil {
				n.confState = n.rn.ApplyConfChange(cc)
			}
		case raftpb.EntryConfChangeV2:
			cc := &raftpb.ConfChangeV2{}
			if err = proto.Unmarshal(e.GetData(), cc); err == nil {
				n.confState = n.rn.ApplyConfChange(cc)
			}
		}
		if err != nil {
			return fmt.Errorf("apply entry %d: %w", index, err)
		}
		n.applied.Store(index)
		if term := e.GetTerm(); term == n.hs.GetTerm() && n.readyTerm.Swap(term) != term {
			n.notifyWatchers() // LeaderTerm may be ok now
		}
	}
	return nil
}

func (n *Node) applyNormal(index uint64, data []byte) error {
	if len(data) == 0 {
		return nil // the leader's empty entry
	}
	if len(data) < envelopeSize {
		return fmt.Errorf("%w: entry of %d bytes has no envelope", ErrCorrupt, len(data))
	}
	if err := n.sm.Apply(index, data[envelopeSize:]); err != nil {
		return err
	}
	n.applied.Store(index) // before the waiter wakes: it may read AppliedIndex
	id := binary.LittleEndian.Uint64(data)
	if p, ok := n.waiters[id]; ok {
		delete(n.waiters, id)
		p.done <- proposeResult{index: index}
	}
	return nil
}

// failWaiters completes every waiting proposal with err.
func (n *Node) failWaiters(err error) {
	for id, p := range n.waiters {
		delete(n.waiters, id)
		p.done <- proposeResult{err: err}
	}
}
