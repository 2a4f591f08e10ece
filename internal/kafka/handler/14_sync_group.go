package handler

// SyncGroup, versions 0-5.
//
// Hands out a classic group's assignment. After a rebalance each member's
// request is parked until the leader's arrives with the assignment, which
// is persisted with the group; then every member gets its share and the
// group is Stable. A member that syncs later gets it at once. v3+ carry
// group.instance.id (KIP-345); v5+ the protocol type and name, checked
// against the group's (INCONSISTENT_GROUP_PROTOCOL) and returned
// (KIP-559).

import "github.com/twmb/franz-go/pkg/kmsg"

func handleSyncGroup(b *Broker, r *Request) *Reply {
	req := r.Msg.(*kmsg.SyncGroupRequest)
	wait := b.Groups.SyncGroup(r.Ctx, req) // takes effect now, in request order
	return Later(func() kmsg.Response { return wait() })
}
