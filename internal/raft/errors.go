package raft

import "errors"

// Sentinel errors of the metadata quorum. Callers compare with errors.Is.
var (
	// ErrNotLeader: this node is not the leader, so the proposal was not
	// appended to the log. Node.Leader names the leader when one is known.
	ErrNotLeader = errors.New("raft: not the leader")

	// ErrLeadershipLost: this node stopped being the leader after it had
	// appended the proposal but before the entry was applied here. The
	// outcome is unknown: a later leader may still commit the entry.
	ErrLeadershipLost = errors.New("raft: leadership lost before the proposal was applied")

	// ErrClosed: the node has been closed.
	ErrClosed = errors.New("raft: node closed")

	// ErrEntryTooLarge: a proposal is larger than MaxEntryBytes.
	ErrEntryTooLarge = errors.New("raft: entry too large")

	// ErrCorrupt: the on-disk state cannot be read back (a damaged record
	// outside the torn tail, a missing snapshot, an impossible sequence).
	ErrCorrupt = errors.New("raft: corrupt data directory")

	// ErrLocked: another process holds the data directory.
	ErrLocked = errors.New("raft: data directory in use")
)

// errUnreachable: the in-memory transport found no started peer.
var errUnreachable = errors.New("raft: peer unreachable")
