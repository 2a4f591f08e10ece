package controller

import (
	"context"
	"fmt"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/metadata"
	"github.com/sluice-io/sluice/internal/model"
)

// CreatePartitions raises the partition count of the topics in req (or,
// with ValidateOnly, only checks that it could). New partitions are
// PartitionRecords with leader epoch 0, written for the whole request in
// one entry. Without an explicit assignment they get the replication
// factor of partition 0, spread round robin over the unfenced brokers;
// with one, each replica list is checked as Kafka's
// ReplicationControlManager checks it, and the ISR is its unfenced
// brokers.
//
// Results (Name, Err, Message) come in request order, one per distinct
// topic; a topic named twice gets INVALID_REQUEST.
func (c *Controller) CreatePartitions(ctx context.Context, req *kmsg.CreatePartitionsRequest) ([]TopicResult, error) {
	var results []TopicResult
	_, err := c.run(ctx, func(im *metadata.Image) []metadata.Record {
		var recs []metadata.Record
		recs, results = createPartitions(im, req.Topics)
		if req.ValidateOnly {
			return nil
		}
		return recs
	})
	return results, err
}

// createPartitions is the pure core of CreatePartitions.
func createPartitions(im *metadata.Image, topics []kmsg.CreatePartitionsRequestTopic) ([]metadata.Record, []TopicResult) {
	counts := map[string]int{}
	for _, t := range topics {
		counts[t.Topic]++
	}
	var recs []metadata.Record
	results := make([]TopicResult, 0, len(topics))
	seen := map[string]bool{}
	for i := range topics {
		t := &topics[i]
		if seen[t.Topic] {
			continue
		}
		seen[t.Topic] = true
		res := TopicResult{Name: t.Topic}
		if counts[t.Topic] > 1 {
			res.Err, res.Message = kerr.InvalidRequest, "Duplicate topic name."
		} else {
			var topicRecs []metadata.Record
			topicRecs, res.Err, res.Message = addPartitions(im, t)
			recs = append(recs, topicRecs...)
		}
		results = append(results, res)
	}
	return recs, results
}

// addPartitions returns the records adding t's new partitions, or why
// they cannot be added.
func addPartitions(im *metadata.Image, t *kmsg.CreatePartitionsRequestTopic) ([]metadata.Record, *kerr.Error, string) {
	topic := im.Topics[t.Topic]
	if topic == nil || len(topic.Partitions) == 0 {
		return nil, kerr.UnknownTopicOrPartition, "" // Kafka sends no message here
	}
	if model.IsInternalTopic(t.Topic) {
		// The coordinators map keys to its partitions by their count.
		return nil, kerr.InvalidTopicException, fmt.Sprintf("The number of partitions of internal topic %s cannot be changed.", t.Topic)
	}
	have := int32(len(topic.Partitions))
	switch {
	case t.Count == have:
		return nil, kerr.InvalidPartitions, fmt.Sprintf("Topic already has %d partition(s).", have)
	case t.Count < have:
		return nil, kerr.InvalidPartitions, fmt.Sprintf("The topic %s currently has %d partition(s); %d would not be an increase.", t.Topic, have, t.Count)
	}
	if t.Count-have > MaxRecordsPerOp {
		return nil, errTooLarge.err, errTooLarge.msg
	}
	add := int(t.Count - have)
	rf := len(topic.Partitions[0].Replicas)
	var replicas, isrs [][]model.NodeID
	if t.Assignment != nil {
		if len(t.Assignment) != add {
			return nil, kerr.InvalidReplicaAssignment, fmt.Sprintf("Attempted to add %d additional partition(s), but only %d assignment(s) were specified.", add, len(t.Assignment))
		}
		for i, a := range t.Assignment {
			reps, isr, msg := manualAssignment(im, a.Replicas, rf, have+int32(i))
			if msg != "" {
				return nil, kerr.InvalidReplicaAssignment, msg
			}
			replicas, isrs = append(replicas, reps), append(isrs, isr)
		}
	} else {
		brokers := liveBrokers(im)
		if rf > len(brokers) {
			return nil, kerr.InvalidReplicationFactor, fmt.Sprintf("Unable to replicate the partition %d time(s): The target replication factor of %d cannot be reached because only %d broker(s) are registered.", rf, rf, len(brokers))
		}
		replicas = spread(brokers, int(have), add, rf)
		isrs = replicas
	}
	recs := make([]metadata.Record, add)
	for i := range recs {
		recs[i] = metadata.Record{Partition: &metadata.PartitionRecord{TopicID: topic.ID,
			Partition: have + int32(i), Leader: isrs[i][0], Replicas: replicas[i], ISR: isrs[i]}}
	}
	return recs, nil, ""
}

// manualAssignment checks one explicit replica list as Kafka's
// validateManualPartitionAssignment does and returns it with its ISR (the
// unfenced replicas), or the reason it is refused.
func manualAssignment(im *metadata.Image, ids []int32, rf int, partition int32) (replicas, isr []model.NodeID, msg string) {
	if len(ids) == 0 {
		return nil, nil, "The manual partition assignment includes an empty replica list."
	}
	sorted := slices.Sorted(slices.Values(ids))
	for i, id := range sorted {
		if im.Brokers[model.NodeID(id)] == nil {
			return nil, nil, fmt.Sprintf("The manual partition assignment includes broker %d, but no such broker is registered.", id)
		}
		if i > 0 && sorted[i-1] == id {
			return nil, nil, fmt.Sprintf("The manual partition assignment includes the broker %d more than once.", id)
		}
	}
	if len(ids) != rf {
		return nil, nil, fmt.Sprintf("The manual partition assignment includes a partition with %d replica(s), but this is not consistent with previous partitions, which have %d replica(s).", len(ids), rf)
	}
	for _, id := range ids {
		n := model.NodeID(id)
		replicas = append(replicas, n)
		if !im.Brokers[n].Fenced {
			isr = append(isr, n)
		}
	}
	if len(isr) == 0 {
		return nil, nil, fmt.Sprintf("All brokers specified in the manual partition assignment for partition %d are fenced or in controlled shutdown.", partition)
	}
	return replicas, isr, ""
}
