package controller

import (
	"context"
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/metadata"
	"github.com/sluice-io/sluice/internal/model"
)

// MaxTopicNameLength is Kafka's limit (249, so that partition directory
// names fit in 255 bytes).
const MaxTopicNameLength = 249

var legalTopic = regexp.MustCompile(`^[a-zA-Z0-9._-]+$`)

// ValidateTopicName applies Kafka's topic name rules.
func ValidateTopicName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("Topic name is illegal, it can't be empty")
	case name == "." || name == "..":
		return fmt.Errorf("Topic name cannot be \".\" or \"..\"")
	case len(name) > MaxTopicNameLength:
		return fmt.Errorf("Topic name is illegal, it can't be longer than %d characters, topic name: %s", MaxTopicNameLength, name)
	case !legalTopic.MatchString(name):
		return fmt.Errorf("Topic name %s is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'", name)
	}
	return nil
}

// MaxRecordsPerOp bounds the metadata records one admin operation may
// write (Kafka's QuorumController.MAX_RECORDS_PER_USER_OP): one per
// partition created, so a request for 2^31 partitions is refused before
// anything is allocated for it.
const MaxRecordsPerOp = 10_000

// errTooLarge is Kafka's answer to an operation over MaxRecordsPerOp.
var errTooLarge = struct {
	err *kerr.Error
	msg string
}{kerr.PolicyViolation, "Unable to perform excessively large batch operation."}

// TopicResult is the outcome for one topic of CreateTopics.
type TopicResult struct {
	Name              string
	ID                model.TopicID
	Err               *kerr.Error
	Message           string
	NumPartitions     int32
	ReplicationFactor int16
}

// CreateTopics creates the topics in req (or only validates them).
// Results come in request order.
func (c *Controller) CreateTopics(ctx context.Context, req *kmsg.CreateTopicsRequest) ([]TopicResult, error) {
	results := make([]TopicResult, len(req.Topics))
	_, err := c.run(ctx, func(im *metadata.Image) []metadata.Record {
		counts := map[string]int{}
		for _, t := range req.Topics {
			counts[t.Topic]++
		}
		var recs []metadata.Record
		for i := range req.Topics {
			t := &req.Topics[i]
			r := &results[i]
			r.Name = t.Topic
			if counts[t.Topic] > 1 {
				r.Err, r.Message = kerr.InvalidRequest, fmt.Sprintf("Create topics request from client contains multiple entries for the following topics: %s", t.Topic)
				continue
			}
			topicRecs, res := c.createTopic(im, t)
			*r = res
			if r.Err == nil && !req.ValidateOnly {
				recs = append(recs, topicRecs...)
			}
			if len(recs) > MaxRecordsPerOp {
				// Kafka fails the whole operation (BoundedList).
				for j := range results {
					results[j] = TopicResult{Name: req.Topics[j].Topic, Err: errTooLarge.err, Message: errTooLarge.msg}
				}
				return nil
			}
		}
		return recs
	})
	return results, err
}

func (c *Controller) createTopic(im *metadata.Image, t *kmsg.CreateTopicsRequestTopic) ([]metadata.Record, TopicResult) {
	res := TopicResult{Name: t.Topic}
	fail := func(e *kerr.Error, format string, args ...any) ([]metadata.Record, TopicResult) {
		res.Err, res.Message = e, fmt.Sprintf(format, args...)
		return nil, res
	}
	if err := ValidateTopicName(t.Topic); err != nil {
		return fail(kerr.InvalidTopicException, "%v", err)
	}
	if t.Topic == model.ClusterMetadataTopic {
		return fail(kerr.InvalidRequest, "Creation of internal topic %s is prohibited.", t.Topic)
	}
	if _, ok := im.Topics[t.Topic]; ok {
		return fail(kerr.TopicAlreadyExists, "Topic '%s' already exists.", t.Topic)
	}
	configs := map[string]string{}
	for _, cfg := range t.Configs {
		if cfg.Value == nil {
			return fail(kerr.InvalidConfig, "Null value not supported for topic configs: %s", cfg.Name)
		}
		configs[cfg.Name] = *cfg.Value
	}
	if err := c.opts.ValidateTopicConfigs(configs); err != nil {
		return fail(kerr.InvalidConfig, "%v", err)
	}
	assignment, e, msg := c.placement(im, t)
	if e != nil {
		return fail(e, "%s", msg)
	}
	id := model.NewTopicID()
	res.ID, res.NumPartitions, res.ReplicationFactor = id, int32(len(assignment)), int16(len(assignment[0]))
	recs := []metadata.Record{{Topic: &metadata.TopicRecord{Name: t.Topic, ID: id}}}
	for k, v := range configs {
		recs = append(recs, metadata.Record{Config: &metadata.ConfigRecord{
			ResourceType: metadata.ResourceTopic, ResourceName: t.Topic, Key: k, Value: &v}})
	}
	for p, replicas := range assignment {
		recs = append(recs, metadata.Record{Partition: newPartition(id, int32(p), replicas)})
	}
	return recs, res
}

func newPartition(id model.TopicID, p int32, replicas []model.NodeID) *metadata.PartitionRecord {
	return &metadata.PartitionRecord{TopicID: id, Partition: p, Leader: replicas[0],
		Replicas: replicas, ISR: replicas}
}

// placement returns the replica list of each new partition: the explicit
// assignment when given, otherwise brokers spread round robin from a
// random start, as Kafka places replicas without racks.
func (c *Controller) placement(im *metadata.Image, t *kmsg.CreateTopicsRequestTopic) ([][]model.NodeID, *kerr.Error, string) {
	brokers := liveBrokers(im)
	if len(t.ReplicaAssignment) > 0 {
		if t.NumPartitions != -1 || t.ReplicationFactor != -1 {
			return nil, kerr.InvalidRequest, "Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time."
		}
		if len(t.ReplicaAssignment) > MaxRecordsPerOp {
			return nil, errTooLarge.err, errTooLarge.msg
		}
		out := make([][]model.NodeID, len(t.ReplicaAssignment))
		for _, a := range t.ReplicaAssignment {
			if a.Partition < 0 || int(a.Partition) >= len(out) || out[a.Partition] != nil {
				return nil, kerr.InvalidReplicaAssignment, "Partitions should be a consecutive 0-based integer sequence"
			}
			reps, e, msg := checkReplicas(im, a.Replicas, len(t.ReplicaAssignment[0].Replicas))
			if e != nil {
				return nil, e, msg
			}
			out[a.Partition] = reps
		}
		return out, nil, ""
	}
	n, rf := t.NumPartitions, t.ReplicationFactor
	if n == -1 {
		n = c.opts.NumPartitions
	}
	if rf == -1 {
		rf = c.opts.DefaultReplicationFactor
	}
	if n <= 0 {
		return nil, kerr.InvalidPartitions, "Number of partitions was set to an invalid non-positive value."
	}
	if n > MaxRecordsPerOp {
		return nil, errTooLarge.err, errTooLarge.msg
	}
	if rf <= 0 {
		return nil, kerr.InvalidReplicationFactor, "Replication factor must be larger than 0, or -1 to use the default value."
	}
	if int(rf) > len(brokers) {
		return nil, kerr.InvalidReplicationFactor, fmt.Sprintf("Unable to replicate the partition %d time(s): The target replication factor of %d cannot be reached because only %d broker(s) are registered.", rf, rf, len(brokers))
	}
	return spread(brokers, 0, int(n), int(rf)), nil, ""
}

// spread places partitions first..first+n-1 over brokers round robin.
func spread(brokers []model.NodeID, first, n, rf int) [][]model.NodeID {
	start := rand.IntN(len(brokers))
	out := make([][]model.NodeID, n)
	for p := range out {
		reps := make([]model.NodeID, rf)
		for r := range reps {
			reps[r] = brokers[(start+first+p+r)%len(brokers)]
		}
		out[p] = reps
	}
	return out
}

func checkReplicas(im *metadata.Image, ids []int32, want int) ([]model.NodeID, *kerr.Error, string) {
	if len(ids) == 0 || len(ids) != want {
		return nil, kerr.InvalidReplicaAssignment, "All partitions should have the same number of replicas"
	}
	seen := map[int32]bool{}
	out := make([]model.NodeID, len(ids))
	for i, id := range ids {
		if seen[id] {
			return nil, kerr.InvalidReplicaAssignment, fmt.Sprintf("Duplicate broker id %d in replica assignment", id)
		}
		seen[id] = true
		if b, ok := im.Brokers[model.NodeID(id)]; !ok || b.Fenced {
			return nil, kerr.InvalidReplicaAssignment, fmt.Sprintf("The manual partition assignment includes broker %d, but no such broker is registered.", id)
		}
		out[i] = model.NodeID(id)
	}
	return out, nil, ""
}

// liveBrokers lists the unfenced brokers for placement, rack-alternated
// as Kafka's rack-aware assignment orders them: the first broker of each
// rack (racks in name order), then the second of each, and so on. Round
// robin over that list (spread) puts a partition's consecutive replicas
// on different racks while the racks last; without racks it is id order.
func liveBrokers(im *metadata.Image) []model.NodeID {
	byRack := map[string][]model.NodeID{}
	var racks []string
	for _, id := range im.BrokerIDs() {
		b := im.Brokers[id]
		if b.Fenced {
			continue
		}
		if byRack[b.Rack] == nil {
			racks = append(racks, b.Rack)
		}
		byRack[b.Rack] = append(byRack[b.Rack], id)
	}
	slices.Sort(racks)
	var out []model.NodeID
	for i := 0; ; i++ {
		added := false
		for _, r := range racks {
			if i < len(byRack[r]) {
				out = append(out, byRack[r][i])
				added = true
			}
		}
		if !added {
			return out
		}
	}
}
