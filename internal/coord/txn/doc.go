// Package txn is the transaction coordinator (KIP-98; KIP-890 part 1
// partition verification and part 2 "transactions v2"), with Kafka's
// semantics so that every Kafka client's transactional producer works
// unchanged.
//
// # Where state lives
//
// Each transactional id is one record in the compacted internal topic
// __transaction_state, in exactly Kafka's format (kmsg.TxnMetadataKey /
// TxnMetadataValue; a null value is a tombstone;
// docs/format/transaction-state.md). An id lives in partition
// Partition(id, partitions), Kafka's abs(javaHashCode(id)) % partitions.
// Each partition this broker leads is a coordinator shard
// (internal/coord/runtime, kept by its Slots), loaded by replaying the
// partition when the metadata makes this broker its leader; the
// coordinator epoch written into markers is that partition's leader epoch.
// Every answer is sent only once the records behind it are durable.
//
// # The state machine
//
//	(none) --InitProducerId--> Empty --AddPartitionsToTxn / AddOffsetsToTxn--> Ongoing
//	Ongoing --EndTxn commit--> PrepareCommit --markers written--> CompleteCommit
//	Ongoing --EndTxn abort, timeout, InitProducerId (fencing)--> PrepareAbort --markers--> CompleteAbort
//	Empty, CompleteCommit, CompleteAbort --InitProducerId--> Empty (epoch + 1)
//	Empty, CompleteCommit, CompleteAbort --transactional.id.expiration.ms--> (tombstone)
//
// InitProducerId bumps the epoch, which fences every older producer of
// the id; an exhausted epoch moves to a new producer id; KIP-360 lets a
// producer that passes its id and epoch recover. Once PrepareCommit or
// PrepareAbort is durable the outcome is decided: the coordinator writes
// COMMIT or ABORT markers (control batches with the producer's id and
// epoch and its own epoch) to every partition of the transaction through
// a MarkerWriter (LocalMarkers for the partitions of this broker:
// replicas for data, the group coordinator for __consumer_offsets, whose
// pending transactional offsets the marker commits or drops), waits for
// them to be durable, and writes CompleteCommit or CompleteAbort. A
// coordinator that loads a partition with a transaction still preparing
// writes its markers again.
//
// Transactions open longer than their transaction.timeout.ms are aborted
// with a bumped epoch (the producer is fenced), checked every
// transaction.abort.timed.out.transaction.cleanup.interval.ms.
//
// Transactions v2 (EndTxn v5, KIP-890 part 2): each EndTxn bumps the
// epoch at prepare time (markers carry the new epoch) and answers with
// the id and epoch for the next transaction; an abort needs no open
// transaction; retries are recognized by the epoch one below. Clients use
// it only when the broker advertises the transaction.version feature at
// 2.
//
// The error codes of the protocol are its own outcomes, so the state
// machine speaks kerr codes directly (codes.go); runtime failures become
// NOT_COORDINATOR.
//
// Coordinator is safe for concurrent use; a shard's state is touched only
// under its runtime shard's lock. Lock order: Coordinator.mu is never held
// while running an op.
package txn
