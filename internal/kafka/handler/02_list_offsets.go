package handler

// ListOffsets, versions 1-11.
//
// Per partition, the timestamp selects: -1 the latest offset (the high
// watermark, or for isolation_level 1, read_committed, the last stable
// offset: KIP-98), -2 the log
// start offset, -3 the offset and timestamp of the record with the largest
// timestamp (KIP-734, v7+), -4 the earliest local offset (KIP-405; all
// data is local, so the log start), and any other value the first offset
// whose timestamp is at or after it (offset -1 when there is none, and
// for read_committed when it is at or past the last stable offset).
// current_leader_epoch (v4+) is checked as in Fetch. The leader epoch
// answered (v4+) is the partition's current one. Only the leader answers
// (NOT_LEADER_OR_FOLLOWER elsewhere), except to replica_id -2 (Kafka's
// debugging consumer); to a follower (replica_id >= 0) and to -2 the
// latest offset is the log end, without isolation, as in Kafka (a
// follower truncates or resets against it).

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/model"
	"github.com/sluice-io/sluice/internal/replica"
)

func handleListOffsets(b *Broker, r *Request) *Reply {
	req := r.Msg.(*kmsg.ListOffsetsRequest)
	resp := kmsg.NewPtrListOffsetsResponse()
	resp.SetVersion(req.GetVersion())
	im := b.Metadata.Current()
	for _, rt := range req.Topics {
		st := kmsg.NewListOffsetsResponseTopic()
		st.Topic = rt.Topic
		t := im.Topics[rt.Topic]
		for _, rp := range rt.Partitions {
			sp := kmsg.NewListOffsetsResponseTopicPartition()
			sp.Partition = rp.Partition
			sp.Timestamp, sp.Offset, sp.LeaderEpoch = -1, -1, -1
			switch {
			case t == nil || rp.Partition < 0 || int(rp.Partition) >= len(t.Partitions):
				sp.ErrorCode = kerr.UnknownTopicOrPartition.Code
			default:
				b.listOffset(model.TopicPartition{Topic: t.Name, Partition: rp.Partition}, rp, req.ReplicaID, req.IsolationLevel == 1 && req.ReplicaID == -1, &sp)
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return Now(resp)
}

func (b *Broker) listOffset(tp model.TopicPartition, rp kmsg.ListOffsetsRequestTopicPartition, replicaID int32, readCommitted bool, sp *kmsg.ListOffsetsResponseTopicPartition) {
	part := b.Replicas.Get(tp)
	if part == nil || (part.Role() != replica.RoleLeader && replicaID != -2) {
		sp.ErrorCode = kerr.NotLeaderForPartition.Code
		return
	}
	epoch := int32(part.LeaderEpoch())
	if e := rp.CurrentLeaderEpoch; e >= 0 && e != epoch {
		sp.ErrorCode = kerr.FencedLeaderEpoch.Code
		if e > epoch {
			sp.ErrorCode = kerr.UnknownLeaderEpoch.Code
		}
		return
	}
	sp.LeaderEpoch = epoch
	if readCommitted {
		defer hideUnstable(part.LastStableOffset(), rp.Timestamp, sp)
	}
	switch rp.Timestamp {
	case -1:
		sp.Offset = int64(part.HighWatermark())
		if replicaID != -1 {
			sp.Offset = int64(part.LogEndOffset())
		} else if readCommitted {
			sp.Offset = int64(part.LastStableOffset())
		}
	case -2, -4:
		sp.Offset = int64(part.LogStartOffset())
	case -3:
		off, ts := part.MaxTimestamp()
		sp.Offset, sp.Timestamp = int64(off), ts
	default:
		if off, ts, ok := part.OffsetForTimestamp(rp.Timestamp); ok {
			sp.Offset, sp.Timestamp = int64(off), ts
		}
	}
}

// hideUnstable drops a timestamp lookup's answer at or past the last
// stable offset from a read_committed ListOffsets (Kafka's
// lastFetchableOffset).
func hideUnstable(lso model.Offset, ts int64, sp *kmsg.ListOffsetsResponseTopicPartition) {
	if ts >= 0 || ts == -3 {
		if sp.Offset >= int64(lso) {
			sp.Offset, sp.Timestamp = -1, -1
		}
	}
}
