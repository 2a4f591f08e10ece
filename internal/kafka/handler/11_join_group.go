package handler

// JoinGroup, versions 0-9.
//
// Joins a classic group (internal/coord/group). The answer is parked
// until the group's join phase completes: every member rejoined, or the
// rebalance timeout (v1+, KIP-62; the session timeout in v0) passed, or,
// for a new group, group.initial.rebalance.delay.ms passed with no new
// member. The leader's answer lists every member's metadata. From v4 a
// member without an id first gets MEMBER_ID_REQUIRED and a generated id
// (KIP-394). v5+ carry group.instance.id: static members keep their
// assignment across restarts without a rebalance, fencing the old
// incarnation (KIP-345). v7+ answer the protocol type (KIP-559); v8+
// carry a reason (KIP-800); v9+ tell a rejoining static leader to skip
// assigning (KIP-814). A session timeout outside group.min/max.session
// .timeout.ms is INVALID_SESSION_TIMEOUT; protocols no member shares are
// INCONSISTENT_GROUP_PROTOCOL.

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/coord/group"
)

func handleJoinGroup(b *Broker, r *Request) *Reply {
	req := r.Msg.(*kmsg.JoinGroupRequest)
	cl := group.Client{ID: r.Header.ClientID, Remote: r.Conn.Remote}
	wait := b.Groups.JoinGroup(r.Ctx, req, cl) // takes effect now, in request order
	return Later(func() kmsg.Response { return wait() })
}
