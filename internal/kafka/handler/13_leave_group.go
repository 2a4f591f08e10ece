package handler

// LeaveGroup, versions 0-5.
//
// Removes members from a classic group, which then rebalances without
// them. v0-v2 name one member; v3+ a batch, each answered on its own, and
// a static member may be named by group.instance.id alone (KIP-345). v5
// carries a reason (KIP-800).

import "github.com/twmb/franz-go/pkg/kmsg"

func handleLeaveGroup(b *Broker, r *Request) *Reply {
	req := r.Msg.(*kmsg.LeaveGroupRequest)
	wait := b.Groups.LeaveGroup(req) // takes effect now, in request order
	return Later(func() kmsg.Response { return wait() })
}
