package handler

// OffsetCommit, versions 0-10.
//
// Commits a group's offsets through its group coordinator shard
// (internal/coord/group): stored as records of __consumer_offsets and
// answered once durable. Partitions of unknown topics get
// UNKNOWN_TOPIC_OR_PARTITION; v10 names topics by id (UNKNOWN_TOPIC_ID).
// A simple consumer (generation -1, no member id, KIP-211 semantics) may
// commit only while the group has no members; a member must give its
// generation (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID
// with group.instance.id from v7, KIP-345; REBALANCE_IN_PROGRESS while
// the group waits for its assignment). Metadata above
// offset.metadata.max.bytes is OFFSET_METADATA_TOO_LARGE. v1 carries a
// commit timestamp per partition, v2-v4 a retention time (an expiry),
// v6+ the leader epoch (KIP-320). NOT_COORDINATOR and
// COORDINATOR_LOAD_IN_PROGRESS send the client to FindCoordinator.

import "github.com/twmb/franz-go/pkg/kmsg"

func handleOffsetCommit(b *Broker, r *Request) *Reply {
	req := r.Msg.(*kmsg.OffsetCommitRequest)
	wait := b.Groups.OffsetCommit(req) // takes effect now, in request order
	return Later(func() kmsg.Response { return wait() })
}
