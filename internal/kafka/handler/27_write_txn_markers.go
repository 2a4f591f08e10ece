package handler

// WriteTxnMarkers, versions 0-2.
//
// Sent by a transaction coordinator to the leaders of a transaction's
// partitions: each marker (COMMIT or ABORT for a producer id and epoch,
// with the coordinator's epoch) is appended as a control batch to the
// partitions this broker leads and answered once durable;
// __consumer_offsets partitions go through the group coordinator, which
// commits or drops the producer's pending offsets. Per partition:
// UNKNOWN_TOPIC_OR_PARTITION, NOT_LEADER_OR_FOLLOWER, an older producer
// epoch INVALID_PRODUCER_EPOCH, an older coordinator epoch
// TRANSACTION_COORDINATOR_FENCED. v1: flexible (KIP-482); v2: the
// transaction version of the marker (KIP-1228), not needed here.
//
// A single-node Sluice never sends it (its coordinator writes markers
// through txn.LocalMarkers directly); it is served for completeness and
// for the remote marker path.

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/coord/runtime"
	"github.com/sluice-io/sluice/internal/coord/txn"
	"github.com/sluice-io/sluice/internal/model"
)

func handleWriteTxnMarkers(b *Broker, r *Request) *Reply {
	req := r.Msg.(*kmsg.WriteTxnMarkersRequest)
	lm := &txn.LocalMarkers{NodeID: b.Settings.NodeID, Metadata: b.Metadata, Replicas: b.Replicas, Groups: b.Groups,
		Clock: runtime.SystemClock{}}
	return Later(func() kmsg.Response {
		resp := req.ResponseKind().(*kmsg.WriteTxnMarkersResponse)
		for _, m := range req.Markers {
			mk := txn.Marker{ProducerID: model.ProducerID(m.ProducerID), ProducerEpoch: model.ProducerEpoch(m.ProducerEpoch),
				CoordinatorEpoch: m.CoordinatorEpoch, Commit: m.Committed}
			for _, t := range m.Topics {
				for _, p := range t.Partitions {
					mk.Partitions = append(mk.Partitions, model.TopicPartition{Topic: t.Topic, Partition: p})
				}
			}
			errs := lm.WriteMarkers(r.Ctx, mk)
			rm := kmsg.NewWriteTxnMarkersResponseMarker()
			rm.ProducerID = m.ProducerID
			i := 0
			for _, t := range m.Topics {
				rt := kmsg.NewWriteTxnMarkersResponseMarkerTopic()
				rt.Topic = t.Topic
				for _, p := range t.Partitions {
					rp := kmsg.NewWriteTxnMarkersResponseMarkerTopicPartition()
					rp.Partition, rp.ErrorCode = p, errorCode(errs[i])
					rt.Partitions = append(rt.Partitions, rp)
					i++
				}
				rm.Topics = append(rm.Topics, rt)
			}
			resp.Markers = append(resp.Markers, rm)
		}
		return resp
	})
}
