package handler

// OffsetFetch, versions 0-10.
//
// Reads a group's committed offsets from its coordinator shard: the
// partitions asked for (offset -1 and empty metadata where nothing is
// committed) or, with null topics (v2+), every committed offset. A group
// that does not exist has none. v0-v1 report errors per partition, v2-v7
// at the top, v8+ per group, as v8 fetches several groups at once
// (KIP-709). v5+ return the leader epoch (KIP-320). require_stable (v7+,
// KIP-447): a partition with a transactional offset commit still pending
// answers UNSTABLE_OFFSET_COMMIT (offset -1) until its transaction ends.
// v9's member id and epoch are for KIP-848 groups and ignored; v10 names
// topics by id.

import "github.com/twmb/franz-go/pkg/kmsg"

func handleOffsetFetch(b *Broker, r *Request) *Reply {
	req := r.Msg.(*kmsg.OffsetFetchRequest)
	wait := b.Groups.OffsetFetch(req) // takes effect now, in request order
	return Later(func() kmsg.Response { return wait() })
}
