// Package raft is Sluice's metadata quorum: a thin, durable driver around
// go.etcd.io/raft/v3. Consensus is etcd raft's; this package owns the
// durable storage, the driver loop, snapshots and the transport seam.
//
// # Lifecycle
//
// Open locks Config.Dir, then either bootstraps it (no WAL yet: an empty
// snapshot at index 1 whose ConfState lists Config.Peers as voters, the
// bootstrap etcd raft recommends) or recovers it: the newest WAL segment is
// replayed (a torn tail is cut off), the snapshot it names is restored
// into the StateMachine, and the committed entries after it are applied
// through StateMachine.Apply before Open returns. A sole voter campaigns at
// once and is the leader when Open returns; in a larger quorum WaitLeader
// waits for the election. Close stops the loop and the transport, then
// syncs and closes the WAL.
//
// # Driver loop
//
// One goroutine owns the RawNode and runs etcd's canonical cycle: take
// ticks, received messages and proposals (several at a time), then for
// each Ready: write the snapshot, entries and hard state to the WAL and
// fsync once (group commit: one fsync per Ready, not per entry), send the
// messages, apply committed entries, snapshot when due, Advance. Propose
// returns when its entry is applied on this node; an 8-byte proposal id in
// front of the payload (stripped before Apply) finds the waiter.
//
// # Files
//
// Dir holds LOCK, one WAL segment wal-<seq>.log and one snapshot
// snap-<term>-<index>.snap (both in 16 hex digits). A segment begins with a
// head, a snapshot marker and the hard state, written atomically with the
// file; records after it are CRC32C-checked entries and hard states. Every
// snapshot, taken every Config.SnapshotEntries applied entries or received
// from the leader, is written atomically and starts a new segment holding
// just the entries after it; then the old segment and snapshot are
// deleted. Byte layouts: docs/format/raft.md.
//
// # Invariants
//
//   - Nothing of a Ready leaves the node before its WAL records are synced.
//   - The WAL's only segment starts at the snapshot it names; entries in
//     it are contiguous from the snapshot index + 1.
//   - Apply sees every committed proposal exactly once per state machine
//     lifetime: after Restore(i), entries i+1, i+2, ... in order.
package raft
