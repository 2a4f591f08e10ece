package handler

// DescribeProducers, version 0 (KIP-664).
//
// For each partition asked for, the producers its leader knows: id,
// epoch, last sequence, last batch timestamp, coordinator epoch and the
// first offset of the open transaction (-1 without one). A topic or
// partition that does not exist is UNKNOWN_TOPIC_OR_PARTITION; a
// partition this broker does not lead is NOT_LEADER_OR_FOLLOWER (Kafka's
// ReplicaManager.activeProducerState). Partitions are answered in request
// order.

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/model"
	"github.com/sluice-io/sluice/internal/replica"
)

func handleDescribeProducers(b *Broker, r *Request) *Reply {
	req := r.Msg.(*kmsg.DescribeProducersRequest)
	resp := req.ResponseKind().(*kmsg.DescribeProducersResponse)
	im := b.Metadata.Current()
	nowMs := b.Now().UnixMilli()
	for _, rt := range req.Topics {
		st := kmsg.NewDescribeProducersResponseTopic()
		st.Topic = rt.Topic
		t := im.Topics[rt.Topic]
		for _, partition := range rt.Partitions {
			sp := kmsg.NewDescribeProducersResponseTopicPartition()
			sp.Partition = partition
			switch {
			case t == nil || partition < 0 || int(partition) >= len(t.Partitions):
				sp.ErrorCode = kerr.UnknownTopicOrPartition.Code
			default:
				part := b.Replicas.Get(model.TopicPartition{Topic: t.Name, Partition: partition})
				if part == nil || t.Partitions[partition].Leader != b.Settings.NodeID || part.Role() != replica.RoleLeader {
					sp.ErrorCode = kerr.NotLeaderForPartition.Code
					break
				}
				infos, err := part.ActiveProducers(nowMs)
				if err != nil {
					sp.ErrorCode, sp.ErrorMessage = errorCode(err), errorMessage(err)
					break
				}
				for _, p := range infos {
					ap := kmsg.NewDescribeProducersResponseTopicPartitionActiveProducer()
					ap.ProducerID, ap.ProducerEpoch = int64(p.ID), int32(p.Epoch)
					ap.LastSequence, ap.LastTimestamp = p.LastSequence, p.LastTimestamp
					ap.CoordinatorEpoch, ap.CurrentTxnStartOffset = p.CoordinatorEpoch, int64(p.CurrentTxnStartOffset)
					sp.ActiveProducers = append(sp.ActiveProducers, ap)
				}
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return Now(resp)
}
