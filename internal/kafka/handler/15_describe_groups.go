package handler

// DescribeGroups, versions 0-6.
//
// Describes classic groups: state, protocol type, and members with client
// id and host; member metadata, assignments and the selected protocol
// only for a Stable group, as Kafka. A group that does not exist is
// "Dead", and from v6 GROUP_ID_NOT_FOUND with a message (KIP-1043). v3+
// report authorized operations when asked (KIP-430); v4+ members'
// group.instance.id (KIP-345). A KIP-848 consumer group is answered as
// Kafka does: Dead, or GROUP_ID_NOT_FOUND from v6 (describe it with
// ConsumerGroupDescribe).

import "github.com/twmb/franz-go/pkg/kmsg"

func handleDescribeGroups(b *Broker, r *Request) *Reply {
	req := r.Msg.(*kmsg.DescribeGroupsRequest)
	wait := b.Groups.DescribeGroups(req) // takes effect now, in request order
	return Later(func() kmsg.Response { return wait() })
}
