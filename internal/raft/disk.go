package raft

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.etcd.io/raft/v3/raftpb"
)

// A new quorum's log begins with an empty snapshot at this index and term
// holding the voters, the bootstrap etcd raft recommends over
// RawNode.Bootstrap: every peer starts from the same state and the leader's
// first entry is index 2. The state machine is not asked to restore it.
const (
	bootstrapIndex = 1
	bootstrapTerm  = 1
)

// dirState is what Open recovers from the data directory.
type dirState struct {
	snap *raftpb.Snapshot
	hs   *raftpb.HardState
	ents []*raftpb.Entry
	wal  *wal
}

// loadDir recovers the state kept in dir, or bootstraps dir with peers as
// the voters when it holds no WAL yet. Leftovers of an interrupted write or
// compaction are deleted.
func loadDir(dir string, peers []Peer, log *slog.Logger) (*dirState, error) {
	segs, snapped, err := scanDir(dir)
	if err != nil {
		return nil, err
	}
	if len(segs) == 0 {
		if snapped {
			// A lost WAL must not be papered over by a fresh bootstrap.
			return nil, fmt.Errorf("%w: snapshots but no wal segment", ErrCorrupt)
		}
		return bootstrapDir(dir, peers)
	}
	last := segs[len(segs)-1]
	w, st, err := openSegment(dir, last, log)
	if err != nil {
		return nil, err
	}
	ds, err := recoverState(dir, st)
	if err != nil {
		_ = w.f.Close()
		return nil, err
	}
	ds.wal = w
	// Segments before the last were superseded by a roll that completed.
	for _, seq := range segs[:len(segs)-1] {
		if err := os.Remove(filepath.Join(dir, segmentName(seq))); err != nil {
			log.Warn("raft wal: remove superseded segment", "segment", seq, "err", err)
		}
	}
	return ds, nil
}

// recoverState loads the snapshot named by the segment head and checks
// that the hard state fits the log.
func recoverState(dir string, st *logState) (*dirState, error) {
	term, index := st.meta.GetTerm(), st.meta.GetIndex()
	data, err := readSnapFile(dir, term, index)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: snapshot %s named by the wal is missing", ErrCorrupt, snapName(term, index))
	}
	if err != nil {
		return nil, err
	}
	// A snapshot newer than the segment head was written but never made
	// part of the log; an older one is superseded.
	if err := removeSnapsExcept(dir, term, index); err != nil {
		return nil, err
	}
	hs := st.hs
	if hs.GetCommit() > st.lastIndex() {
		return nil, fmt.Errorf("%w: commit %d beyond last index %d", ErrCorrupt, hs.GetCommit(), st.lastIndex())
	}
	if hs.GetCommit() < index {
		// A snapshot holds only committed state.
		hs = &raftpb.HardState{Term: new(hs.GetTerm()), Vote: new(hs.GetVote()), Commit: new(index)}
	}
	snap := &raftpb.Snapshot{Metadata: st.meta, Data: data}
	return &dirState{snap: snap, hs: hs, ents: st.ents}, nil
}

// bootstrapDir writes the bootstrap snapshot and the first segment.
func bootstrapDir(dir string, peers []Peer) (*dirState, error) {
	voters := make([]uint64, len(peers))
	for i, p := range peers {
		voters[i] = p.ID
	}
	slices.Sort(voters)
	meta := &raftpb.SnapshotMetadata{
		Term:      new(uint64(bootstrapTerm)),
		Index:     new(uint64(bootstrapIndex)),
		ConfState: raftpb.EnsureConfState(&raftpb.ConfState{Voters: voters}),
	}
	hs := &raftpb.HardState{Term: new(uint64(bootstrapTerm)), Vote: new(uint64(0)), Commit: new(uint64(bootstrapIndex))}
	if err := writeSnapFile(dir, bootstrapTerm, bootstrapIndex, nil); err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	w, err := createSegment(dir, 1, meta, hs, nil)
	if err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	return &dirState{snap: &raftpb.Snapshot{Metadata: meta}, hs: hs, wal: w}, nil
}

// scanDir deletes temp files and returns the WAL segment numbers, sorted,
// and whether a snapshot past the bootstrap one exists.
func scanDir(dir string) (segs []uint64, snapped bool, err error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, false, fmt.Errorf("list %s: %w", dir, err)
	}
	for _, e := range ents {
		name := e.Name()
		if strings.HasSuffix(name, tmpSuffix) {
			if err := os.Remove(filepath.Join(dir, name)); err != nil {
				return nil, false, fmt.Errorf("remove temp file: %w", err)
			}
			continue
		}
		if seq, ok := parseSegmentName(name); ok {
			segs = append(segs, seq)
		}
		if _, index, ok := parseSnapName(name); ok && index > bootstrapIndex {
			snapped = true
		}
	}
	slices.Sort(segs)
	return segs, snapped, nil
}
