package handler

// OffsetForLeaderEpoch, versions 0-4.
//
// Per partition, the end offset of the requested leader epoch from the
// log's leader epoch cache (KIP-101; KIP-279 from v1 also answers the
// epoch found): for the current epoch the log end offset, for an older
// one the start offset of the first later epoch, and the largest known
// epoch at or below the requested one with it; an epoch older than every
// cached one answers itself with the first epoch's start offset. An epoch
// newer than every cached one, -1, or an empty cache answers -1/-1
// without error, as Kafka's LeaderEpochFileCache does. current_leader_epoch (v2+, KIP-320) fences a caller with another
// view of the leadership: older is FENCED_LEADER_EPOCH, newer
// UNKNOWN_LEADER_EPOCH. Followers (replica_id >= 0, v3+) and consumers
// (-1) are answered alike, by the leader only: NOT_LEADER_OR_FOLLOWER
// elsewhere. v4 is flexible.

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/model"
	"github.com/sluice-io/sluice/internal/storage"
)

func handleOffsetForLeaderEpoch(b *Broker, r *Request) *Reply {
	req := r.Msg.(*kmsg.OffsetForLeaderEpochRequest)
	resp := kmsg.NewPtrOffsetForLeaderEpochResponse()
	resp.SetVersion(req.GetVersion())
	for _, rt := range req.Topics {
		st := kmsg.NewOffsetForLeaderEpochResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewOffsetForLeaderEpochResponseTopicPartition()
			sp.Partition, sp.LeaderEpoch, sp.EndOffset = rp.Partition, -1, -1
			current := rp.CurrentLeaderEpoch
			if req.GetVersion() < 2 {
				current = -1
			}
			part, code := b.leaderReplica(model.TopicPartition{Topic: rt.Topic, Partition: rp.Partition}, current)
			if code == 0 {
				epoch, end := part.Log().EndOffsetForEpoch(model.LeaderEpoch(rp.LeaderEpoch))
				if end != storage.UndefinedEpochOffset {
					sp.LeaderEpoch, sp.EndOffset = int32(epoch), int64(end)
				}
			}
			sp.ErrorCode = code
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return Now(resp)
}
