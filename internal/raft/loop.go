package raft

import (
	"fmt"
	"math"
	"time"

	etcdraft "go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
)

// maxDrain bounds how many queued inputs one loop turn takes before it
// handles a Ready: proposals queued meanwhile share one WAL fsync.
const maxDrain = 256

// run is the driver loop, the only goroutine that touches the RawNode,
// the MemoryStorage, the WAL and the state machine after Open.
func (n *Node) run() {
	ticker := time.NewTicker(n.cfg.TickInterval)
	defer ticker.Stop()
	for {
		select {
		case <-n.stopc:
			n.stop(ErrClosed)
			return
		case <-ticker.C:
			n.rn.Tick()
		case p := <-n.propc:
			n.propose(p)
		case m := <-n.recvc:
			n.step(m)
		case f := <-n.reportc:
			f(n.rn)
		}
		n.drain()
		if err := n.settle(); err != nil {
			n.log.Error("raft node stopped", "err", err)
			n.stop(err)
			return
		}
	}
}

// drain takes the inputs already queued, without blocking.
func (n *Node) drain() {
	for range maxDrain {
		select {
		case p := <-n.propc:
			n.propose(p)
		case m := <-n.recvc:
			n.step(m)
		case f := <-n.reportc:
			f(n.rn)
		default:
			return
		}
	}
}

func (n *Node) step(m *raftpb.Message) {
	n.noteContact(m)
	if err := n.rn.Step(m); err != nil {
		n.log.Debug("raft: drop message", "type", m.GetType(), "from", m.GetFrom(), "err", err)
	}
}

// stop records why the loop ends, fails the waiting proposals and
// signals donec.
func (n *Node) stop(err error) {
	n.mu.Lock()
	n.err = err
	n.mu.Unlock()
	n.failWaiters(err)
	n.setLeader(0)
	close(n.donec)
}

// handleReady is one turn of the etcd raft protocol: persist the hard
// state, entries and snapshot (fsync once), then send messages, then apply
// committed entries, then Advance.
func (n *Node) handleReady() error {
	rd := n.rn.Ready()
	if rd.SoftState != nil {
		n.setLeader(rd.SoftState.Lead)
	}
	if err := n.persist(rd); err != nil {
		return err
	}
	if len(rd.Messages) > 0 {
		n.tr.Send(rd.Messages)
	}
	if !etcdraft.IsEmptySnap(rd.Snapshot) {
		if err := n.restore(rd.Snapshot); err != nil {
			return err
		}
	}
	if err := n.apply(rd.CommittedEntries); err != nil {
		return err
	}
	if rd.SoftState != nil && rd.SoftState.RaftState != etcdraft.StateLeader {
		// Entries applied above completed their waiters; the rest may
		// or may not be committed by the next leader.
		n.failWaiters(ErrLeadershipLost)
	}
	if err := n.maybeSnapshot(); err != nil {
		return err
	}
	n.rn.Advance(rd)
	return nil
}

// persist makes rd's snapshot, entries and hard state durable before any
// message of rd leaves, then hands them to the MemoryStorage.
func (n *Node) persist(rd etcdraft.Ready) error {
	hs := rd.HardState
	if etcdraft.IsEmptyHardState(hs) {
		hs = nil
	}
	if !etcdraft.IsEmptySnap(rd.Snapshot) {
		if hs == nil {
			hs = n.hs
		}
		meta := rd.Snapshot.GetMetadata()
		if err := writeSnapFile(n.cfg.Dir, meta.GetTerm(), meta.GetIndex(), rd.Snapshot.GetData()); err != nil {
			return err
		}
		if err := n.rollWAL(meta, hs, rd.Entries); err != nil {
			return err
		}
		if err := n.ms.ApplySnapshot(rd.Snapshot); err != nil {
			return fmt.Errorf("apply received snapshot %d: %w", meta.GetIndex(), err)
		}
		n.snapIndex = meta.GetIndex()
	} else if len(rd.Entries) > 0 || hs != nil {
		if err := n.wal.append(rd.Entries, hs); err != nil {
			return err
		}
		// A commit-only change need not be synced (etcd raft's MustSync):
		// the next synced batch carries it.
		if rd.MustSync {
			if err := n.wal.sync(); err != nil {
				return err
			}
		}
	}
	if hs != nil {
		n.hs = hs
		n.term.Store(hs.GetTerm())
		if err := n.ms.SetHardState(hs); err != nil {
			return fmt.Errorf("set hard state: %w", err)
		}
	}
	if err := n.ms.Append(rd.Entries); err != nil {
		return fmt.Errorf("append to memory log: %w", err)
	}
	return nil
}

// rollWAL starts a new segment with meta, hs and ents as its head and
// deletes the previous segment and snapshots.
func (n *Node) rollWAL(meta *raftpb.SnapshotMetadata, hs *raftpb.HardState, ents []*raftpb.Entry) error {
	next, leftover, err := n.wal.roll(meta, hs, ents)
	if err != nil {
		return err
	}
	n.wal = next
	if leftover != nil {
		n.log.Warn("raft wal: leftover segment", "err", leftover)
	}
	if err := removeSnapsExcept(n.cfg.Dir, meta.GetTerm(), meta.GetIndex()); err != nil {
		n.log.Warn("raft: remove old snapshots", "err", err)
	}
	return nil
}

// restore loads a snapshot received from the leader into the state machine.
func (n *Node) restore(snap *raftpb.Snapshot) error {
	meta := snap.GetMetadata()
	if err := n.sm.Restore(meta.GetIndex(), snap.GetData()); err != nil {
		return fmt.Errorf("restore snapshot %d: %w", meta.GetIndex(), err)
	}
	n.confState = meta.GetConfState()
	n.applied.Store(meta.GetIndex())
	return nil
}

// maybeSnapshot takes a snapshot at the applied index every
// SnapshotEntries entries and compacts the log to it. The WAL keeps only
// the entries after it (persisted, not yet applied).
func (n *Node) maybeSnapshot() error {
	applied := n.applied.Load()
	if applied-n.snapIndex < n.cfg.SnapshotEntries {
		return nil
	}
	data, err := n.sm.Snapshot()
	if err != nil {
		return fmt.Errorf("snapshot state machine at %d: %w", applied, err)
	}
	snap, err := n.ms.CreateSnapshot(applied, n.confState, data)
	if err != nil {
		return fmt.Errorf("create snapshot %d: %w", applied, err)
	}
	meta := snap.GetMetadata()
	if err := writeSnapFile(n.cfg.Dir, meta.GetTerm(), applied, data); err != nil {
		return err
	}
	var tail []*raftpb.Entry
	if last, _ := n.ms.LastIndex(); last > applied {
		if tail, err = n.ms.Entries(applied+1, last+1, math.MaxUint64); err != nil {
			return fmt.Errorf("read log tail: %w", err)
		}
	}
	if err := n.rollWAL(meta, n.hs, tail); err != nil {
		return err
	}
	if err := n.ms.Compact(applied); err != nil {
		return fmt.Errorf("compact memory log to %d: %w", applied, err)
	}
	n.snapIndex = applied
	n.log.Debug("raft: snapshot taken", "index", applied, "bytes", len(data))
	return nil
}
