package handler

// ListGroups, versions 0-5.
//
// Lists the groups this broker coordinates, with their protocol type;
// v4+ filter by state and report it (KIP-518), v5+ filter by type and
// report it (KIP-848): "classic" or "consumer". While a shard is
// loading the answer is COORDINATOR_LOAD_IN_PROGRESS.

import "github.com/twmb/franz-go/pkg/kmsg"

func handleListGroups(b *Broker, r *Request) *Reply {
	req := r.Msg.(*kmsg.ListGroupsRequest)
	wait := b.Groups.ListGroups(req) // takes effect now, in request order
	return Later(func() kmsg.Response { return wait() })
}
