// Package storage is the durable, segmented log of one Kafka partition, in
// Kafka's vocabulary and Kafka's on-disk layout. docs/format/log.md has the
// byte layouts; this page is the map.
//
// # Files
//
// A partition directory <topic>-<partition>/ holds:
//
//	00000000000000000000.log        batches, base offsets from 0, as received
//	00000000000000000000.index      offset index: relative offset -> position
//	00000000000000000000.timeindex  time index: timestamp -> relative offset
//	00000000000000000000.txnindex   aborted transactions whose marker is in the segment (txn-index.md)
//	00000000000000000000.snapshot   producer state as of that offset (producer-snapshot.md)
//	partition.metadata              topic id (Kafka's format, KIP-516)
//	leader-epoch-checkpoint         epoch -> start offset (Kafka's format)
//	log-checkpoint                  log start offset, recovery point, clean marker
//	cleaner-checkpoint              compaction: first dirty offset (compaction.md)
//
// One file per concern here: segment.go (a .log with its indexes),
// files.go (a segment's open files as one pinned, lazily opened set),
// janitor.go (closing idle sets: FileJanitor), files_limit.go (opens and
// maps that survive running out of descriptors),
// offset_index.go, time_index.go and mmap_index.go (indexes), log.go
// (Create, accessors, Close), log_append.go (Append, rolls), log_read.go and
// chunk.go (Read, sendfile), log_timestamp.go (ListOffsets by time),
// recovery.go (Open), retention.go (retention, DeleteRecords), truncate.go
// (follower truncation), flusher.go (group commit), deleter.go (delayed
// segment deletion), checkpoint.go, leader_epoch_cache.go,
// partition_metadata.go, producer_snapshot.go, snapshot_hooks.go and
// log_headers.go (producer state snapshots and the header scan that
// rebuilds the state after them; the state itself is internal/replica's),
// txn_index.go (the per-segment aborted-transaction index),
// cleaner*.go (compaction: cleaner.go has the map of its files).
//
// # Lifecycle
//
// Create makes an empty log; Open recovers an existing one; Close flushes
// and writes the clean-shutdown marker; Delete closes and removes the
// directory. A Log is safe for concurrent use: writers serialize on one
// mutex, readers take no lock and see only whole batches, because the
// writer publishes each segment's size, the log end offset and the segment
// list through atomics after the bytes are written.
//
// # Open files
//
// A partition costs descriptors and memory maps only while it is used,
// not while it exists: Kafka keeps every segment open and needs a
// descriptor limit above three per partition; here 100,000 idle
// partitions hold none. A segment's .log descriptor and its indexes'
// descriptors and maps form one file set behind an atomic pointer
// (files.go). Readers, the appender and sync rounds pin it for the length
// of a call (a CAS on its pin count; no lock on the read path) and open it
// when it is closed. Create and Open close what they opened before they
// return. A FileJanitor (one per process, Config.Janitor) closes sets
// unused for sluice.log.idle.close.ms that handed out no Chunk within the
// log's file.delete.delay.ms, by claiming them (pin count 0 -> closed) so
// no caller ever sees its files close under it; it also keeps what the
// open sets hold under half of RLIMIT_NOFILE and of vm.max_map_count,
// and refuses new sets at one and a half times that.
// When an open or a map still fails with EMFILE, ENFILE or ENOMEM, every
// janitor closes what no Chunk holds and the call is tried once more; a
// second failure is ErrResourceExhausted for that request only: the log
// is not failed (an append, roll, read or sync round changes nothing
// before its opens).
//
// # Appends
//
// Append takes one validated batch, writes the base offset and leader epoch
// into its header in place (outside the CRC), and pwrites the bytes at the
// active segment's end: no per-record work, no allocation. The segment rolls
// on segment.bytes, segment.ms (minus jitter), a full index, or a relative
// offset overflow. Every index.interval.bytes a (last offset, position)
// entry goes into the offset index and, if the largest timestamp grew, one
// into the time index; entries are pwritten into the mapped index files
// (mmap_index.go: a store into a new file's mapping faults for
// milliseconds on ext4). The first batch of a new leader epoch replaces
// leader-epoch-checkpoint without fsync; the next sync round fsyncs it
// (leader_epoch_lazy.go, as Kafka since KAFKA-15046).
//
// # Durability
//
// Appends land in the page cache. WaitDurable is group commit without a
// goroutine: the first waiter runs an fdatasync round covering every append
// made before the round began; waiters arriving meanwhile wait for it and one
// of them runs the next round. flush.messages fsyncs in the append path,
// flush.ms from a timer, and a rolled segment is flushed in the background
// (as Kafka does), so the recovery point keeps up even under acks=1.
//
// # Recovery
//
// The recovery point (all offsets below it are fsynced) is checkpointed
// when it enters a new segment. Open trusts segments below the one holding
// it (and all segments after a verified clean shutdown) after an O(1) index
// sanity check, and scans the rest with CRC checks, rebuilding their indexes
// and truncating the first bad batch and everything after it.
//
// # Compaction
//
// Clean (cleanup.policy=compact) keeps the latest record of every key, as
// Kafka's LogCleaner: it maps the dirty section's keys to their latest
// offsets and rewrites the segments before the active one into
// <base>.log.cleaned files without the lock, then swaps each in under mu
// with Kafka's .cleaned -> .swap -> final protocol, which Open completes
// or rolls back after a crash. CleanUpTo stops below the last stable
// offset; aborted transactions' records are dropped, markers kept until
// safe, and a cleaned segment's .txnindex swaps in with it.
// docs/format/compaction.md has the details.
//
// # Deletion
//
// Retention, DeleteRecords and truncation remove whole segments by renaming
// them *.deleted; their files stay open for file.delete.delay.ms so Chunks
// already handed out remain readable, and readers pin the segments' file
// sets for the length of a call. Lock order: Log.mu, then Log.ckMu, then
// flusher.mu, then segment.filesMu, then mmapIndex.mu or txnIndex.mu,
// then FileJanitor.mu; relief, which may run under any of the first
// three and under a segment's filesMu or an index's mu, only TryLocks
// other segments' filesMu and tears down only sets nobody pins.
package storage
