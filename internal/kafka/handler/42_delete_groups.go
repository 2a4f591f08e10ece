package handler

// DeleteGroups, versions 0-3.
//
// Deletes groups without members: their offsets and metadata get
// tombstones in __consumer_offsets. A group with members is
// NON_EMPTY_GROUP, one that does not exist GROUP_ID_NOT_FOUND.

import "github.com/twmb/franz-go/pkg/kmsg"

func handleDeleteGroups(b *Broker, r *Request) *Reply {
	req := r.Msg.(*kmsg.DeleteGroupsRequest)
	wait := b.Groups.DeleteGroups(req) // takes effect now, in request order
	return Later(func() kmsg.Response { return wait() })
}
