package handler

// Heartbeat, versions 0-4.
//
// Keeps a classic group member's session alive. REBALANCE_IN_PROGRESS
// tells it to rejoin; ILLEGAL_GENERATION and UNKNOWN_MEMBER_ID that it
// was dropped; FENCED_INSTANCE_ID (v3+, KIP-345) that a newer instance
// with its group.instance.id replaced it. While the group's shard loads
// the answer is no error, as Kafka's: the member keeps its session.

import "github.com/twmb/franz-go/pkg/kmsg"

func handleHeartbeat(b *Broker, r *Request) *Reply {
	req := r.Msg.(*kmsg.HeartbeatRequest)
	wait := b.Groups.Heartbeat(req) // takes effect now, in request order
	return Later(func() kmsg.Response { return wait() })
}
