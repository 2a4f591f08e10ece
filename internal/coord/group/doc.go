// Package group is the group coordinator for the classic group protocol
// (JoinGroup, SyncGroup, Heartbeat, LeaveGroup), the consumer group
// protocol (KIP-848, ConsumerGroupHeartbeat) and committed offsets
// (OffsetCommit, OffsetFetch, OffsetDelete), with Kafka's semantics, so
// that every Kafka client's group consumer works unchanged.
//
// # Where state lives
//
// Groups and offsets are records in the compacted internal topic
// __consumer_offsets, in exactly Kafka's format (kmsg.OffsetCommitKey /
// OffsetCommitValue, kmsg.GroupMetadataKey / GroupMetadataValue; a null
// value is a tombstone; docs/format/consumer-offsets.md). A group lives in
// partition Partition(groupID, partitions), Kafka's
// abs(javaHashCode(groupID)) % partitions. Each partition this broker
// leads is a coordinator shard (internal/coord/runtime, kept by its
// Slots): loaded by replaying the partition when the metadata makes this
// broker its leader, so a restart, even a kill -9, rebuilds every group
// and offset; closed when leadership moves. Every answer is sent only once
// the records behind it are durable.
//
// # The classic group state machine
//
//	Empty --join--> PreparingRebalance --all joined / rebalance timeout--> CompletingRebalance
//	CompletingRebalance --leader's SyncGroup--> Stable
//	Stable, CompletingRebalance --join with new metadata, leave, session timeout--> PreparingRebalance
//	PreparingRebalance --nobody left--> Empty;  Empty without offsets --cleanup, DeleteGroups--> (gone)
//
// JoinGroup v4+ first answers MEMBER_ID_REQUIRED with a generated member
// id (KIP-394); static members (group.instance.id, KIP-345) skip that and
// keep their assignment across restarts, fencing an older incarnation
// with FENCED_INSTANCE_ID. The first rebalance of an empty group waits
// group.initial.rebalance.delay.ms. The protocol is the one every member
// supports with the most first-choice votes; the leader is the first
// member to have joined. Generations, session timeouts (a heartbeat, a
// commit or a parked request keeps a member alive) and the rebalance
// timeout (joins and syncs that do not come in time drop the member)
// follow Kafka's GroupMetadataManager.
//
// Offsets: a simple consumer (generation -1, no member id) may commit
// only while the group has no members; metadata is bounded by
// offset.metadata.max.bytes; offsets of a group that stayed empty for
// offsets.retention.minutes expire (KIP-211), as do those of topics a
// stable consumer group no longer reads (KIP-496), and an empty group
// left without offsets is deleted.
//
// # Consumer groups (KIP-848)
//
// ConsumerGroupHeartbeat and ConsumerGroupDescribe serve the consumer
// rebalance protocol of Kafka 4: server-side assignors (uniform, range),
// member epochs and incremental reconciliation without stop-the-world
// rebalances, records in Kafka's consumer group formats. A group is
// either classic or consumer; empty groups convert on the other
// protocol's first request. Semantics and what is not supported:
// consumer_group.go.
//
// The error codes of the group protocol are its own outcomes, so the
// state machine speaks kerr codes directly (codes.go); runtime failures
// become NOT_COORDINATOR in one place (runtimeCode).
//
// Coordinator is safe for concurrent use; a shard's state is touched only
// under its runtime shard's lock.
package group
