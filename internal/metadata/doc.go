// Package metadata holds the cluster state every broker serves from: the
// metadata records that the controller writes into the replicated metadata
// log, and the immutable Image they are applied into.
//
// Lifecycle: the quorum (internal/raft) hands each committed entry, a batch
// of records, to Publisher.Apply in log order. Apply builds the next Image
// from the current one (copy on write: unchanged topics are shared), tells
// the listeners (the broker's replica reconciler, the coordinators)
// synchronously, and only then swaps it in atomically: when a handler can
// see a partition, its local log exists, and when a controller operation
// returns, every local effect of it is in place.
//
// Invariant: an Image is never modified after it is published; readers call
// Publisher.Current and use the result without locks.
//
// Record encoding is in docs/format/metadata.md.
package metadata
