package handler

// DescribeTopicPartitions, version 0 (KIP-966; what kafka-topics.sh
// --describe uses from Kafka 3.9): the partitions of the topics asked
// for, or of every topic when none is named, in topic name order, each
// with its leader, leader epoch, replicas, ISR, eligible leader replicas,
// last known ELR and offline replicas (those on fenced or unregistered
// brokers). At most min(response_partition_limit, 2000) partitions are
// answered (Kafka's max.request.partition.size.limit); when more remain,
// next_cursor names the topic and partition to ask from next, and a
// request with that cursor starts there (the cursor's partition index
// applies to its topic only). A named topic that does not exist answers
// UNKNOWN_TOPIC_OR_PARTITION (INVALID_TOPIC_EXCEPTION for an invalid
// name); a cursor whose topic is not among those named is an invalid
// request. The eligible leader replicas are the controller's
// (controller/fencing.go); the last known ELR, which Kafka keeps for
// operators after an unclean shutdown of ELR members, is always empty:
// a Sluice follower fsyncs what it reports, so such a shutdown does not
// end its eligibility.

import (
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/controller"
	"github.com/sluice-io/sluice/internal/metadata"
	"github.com/sluice-io/sluice/internal/model"
)

// maxDescribedPartitions is Kafka's max.request.partition.size.limit
// default: the most partitions one answer carries.
const maxDescribedPartitions = 2000

// topicOperations is the bit field of every operation Kafka supports on
// the TOPIC resource (no authorizer: all of them are allowed).
var topicOperations = operationBits(kmsg.ACLOperationRead, kmsg.ACLOperationWrite, kmsg.ACLOperationCreate,
	kmsg.ACLOperationDelete, kmsg.ACLOperationAlter, kmsg.ACLOperationDescribe,
	kmsg.ACLOperationDescribeConfigs, kmsg.ACLOperationAlterConfigs)

func handleDescribeTopicPartitions(b *Broker, r *Request) *Reply {
	req := r.Msg.(*kmsg.DescribeTopicPartitionsRequest)
	resp := kmsg.NewPtrDescribeTopicPartitionsResponse()
	resp.SetVersion(req.GetVersion())
	im := b.Metadata.Current()
	from := ""
	if req.Cursor != nil {
		from = req.Cursor.Topic
	}
	all := len(req.Topics) == 0
	var names []string
	if all {
		names = im.TopicNames()
	} else {
		for _, rt := range req.Topics {
			names = append(names, rt.Topic)
		}
		slices.Sort(names)
		names = slices.Compact(names)
		if req.Cursor != nil && !slices.Contains(names, from) {
			return Now(errorResponse(req, kerr.InvalidRequest))
		}
	}
	remaining := min(req.ResponsePartitionLimit, maxDescribedPartitions)
	for _, name := range names {
		if strings.Compare(name, from) < 0 {
			continue
		}
		if remaining <= 0 {
			resp.NextCursor = &kmsg.DescribeTopicPartitionsResponseNextCursor{Topic: name}
			break
		}
		t := im.Topics[name]
		if t == nil {
			if !all {
				resp.Topics = append(resp.Topics, unknownDescribedTopic(name))
			}
			continue
		}
		first := int32(0)
		if req.Cursor != nil && name == from {
			first = max(req.Cursor.Partition, 0)
		}
		st, next := describeTopicPartitions(im, t, first, remaining)
		resp.Topics = append(resp.Topics, st)
		if next >= 0 {
			resp.NextCursor = &kmsg.DescribeTopicPartitionsResponseNextCursor{Topic: name, Partition: next}
			break
		}
		remaining -= int32(len(st.Partitions))
	}
	return Now(resp)
}

// unknownDescribedTopic is the answer for a named topic that is not there.
func unknownDescribedTopic(name string) kmsg.DescribeTopicPartitionsResponseTopic {
	st := kmsg.NewDescribeTopicPartitionsResponseTopic()
	st.Topic, st.IsInternal = &name, model.IsInternalTopic(name)
	st.ErrorCode = kerr.UnknownTopicOrPartition.Code
	if controller.ValidateTopicName(name) != nil {
		st.ErrorCode = kerr.InvalidTopicException.Code
	}
	st.Partitions = []kmsg.DescribeTopicPartitionsResponseTopicPartition{}
	return st
}

// describeTopicPartitions answers t's partitions from first, at most
// limit of them; next is the first partition left out, -1 when none was.
func describeTopicPartitions(im *metadata.Image, t *metadata.Topic, first, limit int32) (kmsg.DescribeTopicPartitionsResponseTopic, int32) {
	st := kmsg.NewDescribeTopicPartitionsResponseTopic()
	name := t.Name
	st.Topic, st.TopicID, st.IsInternal = &name, t.ID, model.IsInternalTopic(name)
	st.AuthorizedOperations = topicOperations
	st.Partitions = []kmsg.DescribeTopicPartitionsResponseTopicPartition{}
	next := int32(-1)
	for i := first; int(i) < len(t.Partitions); i++ {
		if int32(len(st.Partitions)) == limit {
			next = i
			break
		}
		p := t.Partitions[i]
		sp := kmsg.NewDescribeTopicPartitionsResponseTopicPartition()
		sp.Partition, sp.LeaderID, sp.LeaderEpoch = i, int32(p.Leader), int32(p.LeaderEpoch)
		sp.Replicas, sp.ISR = nodeIDs(p.Replicas), nodeIDs(p.ISR)
		sp.EligibleLeaderReplicas, sp.LastKnownELR = nodeIDs(p.ELR), []int32{}
		sp.OfflineReplicas = offlineReplicas(im, p)
		st.Partitions = append(st.Partitions, sp)
	}
	return st, next
}
