package handler

// DeleteRecords, versions 0-2.
//
// Per partition, raises the log start offset to the requested offset (-1
// means the high watermark) and deletes the segments wholly below it, as
// Kafka's Partition.deleteRecordsOnLeader does. An offset above the high
// watermark, or negative other than -1, gets OFFSET_OUT_OF_RANGE; an
// offset at or below the log start offset changes nothing. The answer is
// the partition's low watermark afterwards (its log start offset: every
// partition has one replica today), -1 on error. A partition whose
// cleanup.policy lacks "delete" gets POLICY_VIOLATION, an existing
// internal topic INVALID_TOPIC_EXCEPTION, a partition this broker does
// not lead NOT_LEADER_OR_FOLLOWER. The handler runs on the connection's
// goroutine and answers once the new log start offset is checkpointed,
// so its effect is ordered with the client's other pipelined requests.
// v1 adds throttling, v2 is flexible.

import (
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/model"
	"github.com/sluice-io/sluice/internal/replica"
)

func handleDeleteRecords(b *Broker, r *Request) *Reply {
	req := r.Msg.(*kmsg.DeleteRecordsRequest)
	resp := kmsg.NewPtrDeleteRecordsResponse()
	resp.SetVersion(req.GetVersion())
	for _, rt := range req.Topics {
		st := kmsg.NewDeleteRecordsResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewDeleteRecordsResponseTopicPartition()
			sp.Partition, sp.LowWatermark = rp.Partition, -1
			part, code := b.leaderReplica(model.TopicPartition{Topic: rt.Topic, Partition: rp.Partition}, -1)
			if model.IsInternalTopic(rt.Topic) && code != kerr.UnknownTopicOrPartition.Code {
				code = kerr.InvalidTopicException.Code
			}
			if code == 0 {
				sp.LowWatermark, code = deleteRecords(part, rp.Offset)
			}
			sp.ErrorCode = code
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return Now(resp)
}

// deleteRecords deletes part's records below offset (-1: the high
// watermark) and returns the new low watermark.
func deleteRecords(part *replica.Partition, offset int64) (int64, int16) {
	if !deletePolicy(part.Config().Storage.CleanupPolicy) {
		return -1, kerr.PolicyViolation.Code
	}
	hw := part.HighWatermark()
	to := model.Offset(offset)
	if offset == -1 {
		to = hw
	}
	if to < 0 || to > hw {
		return -1, kerr.OffsetOutOfRange.Code
	}
	if err := part.Log().DeleteRecordsBefore(to); err != nil {
		return -1, errorCode(fmt.Errorf("delete records of %s: %w", part.TP, err))
	}
	return int64(part.LogStartOffset()), 0
}

// deletePolicy reports whether a cleanup.policy value includes "delete"
// (an empty value is the default, delete).
func deletePolicy(policy string) bool {
	if strings.TrimSpace(policy) == "" {
		return true
	}
	for _, p := range strings.Split(policy, ",") {
		if strings.TrimSpace(p) == "delete" {
			return true
		}
	}
	return false
}

// leaderReplica returns the local replica of tp when this broker leads
// it, checking currentLeaderEpoch (-1: not checked) as Kafka's
// Partition.getLocalLog does: older is FENCED_LEADER_EPOCH, newer
// UNKNOWN_LEADER_EPOCH. Otherwise it returns the error code.
func (b *Broker) leaderReplica(tp model.TopicPartition, currentLeaderEpoch int32) (*replica.Partition, int16) {
	t := b.Metadata.Current().Topics[tp.Topic]
	if t == nil || tp.Partition < 0 || int(tp.Partition) >= len(t.Partitions) {
		return nil, kerr.UnknownTopicOrPartition.Code
	}
	part := b.Replicas.Get(tp)
	if part == nil {
		return nil, kerr.NotLeaderForPartition.Code
	}
	if e := currentLeaderEpoch; e >= 0 {
		switch cur := int32(part.LeaderEpoch()); {
		case e < cur:
			return nil, kerr.FencedLeaderEpoch.Code
		case e > cur:
			return nil, kerr.UnknownLeaderEpoch.Code
		}
	}
	if t.Partitions[tp.Partition].Leader != b.Settings.NodeID || part.Role() != replica.RoleLeader {
		return nil, kerr.NotLeaderForPartition.Code
	}
	return part, 0
}
