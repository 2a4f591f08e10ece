package handler

// OffsetDelete, version 0 (KIP-496).
//
// Deletes a group's committed offsets of some partitions. A consumer
// group with members keeps the offsets of topics a member subscribes to
// (GROUP_SUBSCRIBED_TO_TOPIC); another kind of group with members is
// NON_EMPTY_GROUP; a group that does not exist is GROUP_ID_NOT_FOUND.
// Unknown topics get UNKNOWN_TOPIC_OR_PARTITION.

import "github.com/twmb/franz-go/pkg/kmsg"

func handleOffsetDelete(b *Broker, r *Request) *Reply {
	req := r.Msg.(*kmsg.OffsetDeleteRequest)
	wait := b.Groups.OffsetDelete(req) // takes effect now, in request order
	return Later(func() kmsg.Response { return wait() })
}
