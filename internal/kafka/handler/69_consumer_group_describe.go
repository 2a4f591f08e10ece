package handler

// ConsumerGroupDescribe, versions 0-1.
//
// Describes KIP-848 consumer groups: state (Empty, Assigning,
// Reconciling, Stable), group and target assignment epochs, the assignor
// most members asked for, and every member with its epoch, subscription,
// current and target assignment; v1 adds the member type (1: consumer
// protocol). A group that does not exist, or is classic, is
// GROUP_ID_NOT_FOUND; an empty group id INVALID_GROUP_ID.

import "github.com/twmb/franz-go/pkg/kmsg"

func handleConsumerGroupDescribe(b *Broker, r *Request) *Reply {
	req := r.Msg.(*kmsg.ConsumerGroupDescribeRequest)
	wait := b.Groups.ConsumerGroupDescribe(req) // takes effect now, in request order
	return Later(func() kmsg.Response { return wait() })
}
