package metadata

import (
	"encoding/json"
	"fmt"

	"github.com/sluice-io/sluice/internal/model"
)

// Record is one metadata change. Exactly one field is set. A committed
// log entry holds a batch of records applied atomically.
type Record struct {
	Cluster     *ClusterRecord      `json:"cluster,omitempty"`
	Broker      *BrokerRecord       `json:"broker,omitempty"`
	Topic       *TopicRecord        `json:"topic,omitempty"`
	Partition   *PartitionRecord    `json:"partition,omitempty"`
	RemoveTopic *RemoveTopicRecord  `json:"removeTopic,omitempty"`
	Config      *ConfigRecord       `json:"config,omitempty"`
	ProducerIDs *ProducerIDsRecord  `json:"producerIds,omitempty"`
	Feature     *FeatureLevelRecord `json:"feature,omitempty"`
}

// ClusterRecord names the cluster; written once, at bootstrap.
type ClusterRecord struct {
	ClusterID string `json:"clusterId"`
}

// BrokerRecord registers (or re-registers) a broker.
type BrokerRecord struct {
	ID     model.NodeID `json:"id"`
	Host   string       `json:"host"`
	Port   int32        `json:"port"`
	Rack   string       `json:"rack,omitempty"`
	Fenced bool         `json:"fenced,omitempty"`
	// Incarnation is the process's id (Kafka's incarnation id), new at
	// every start: a second process registering the same node id while
	// the first lives is refused. Zero in records written before it.
	Incarnation model.TopicID `json:"incarnation"`
}

// TopicRecord creates a topic; its partitions follow as PartitionRecords.
type TopicRecord struct {
	Name string        `json:"name"`
	ID   model.TopicID `json:"id"`
}

// PartitionRecord creates or replaces one partition of a topic.
type PartitionRecord struct {
	TopicID     model.TopicID     `json:"topicId"`
	Partition   int32             `json:"partition"`
	Leader      model.NodeID      `json:"leader"`
	LeaderEpoch model.LeaderEpoch `json:"leaderEpoch"`
	Epoch       int32             `json:"epoch"`
	Replicas    []model.NodeID    `json:"replicas"`
	ISR         []model.NodeID    `json:"isr"`
	ELR         []model.NodeID    `json:"elr,omitempty"` // eligible leader replicas (KIP-966)
	// Recovering: elected uncleanly, not recovered yet (KIP-704's
	// leader_recovery_state 1).
	Recovering bool `json:"recovering,omitempty"`
}

// RemoveTopicRecord deletes a topic and all its partitions.
type RemoveTopicRecord struct {
	ID model.TopicID `json:"id"`
}

// ConfigRecord sets (Value non-nil) or removes (nil) one config key of a
// resource. ResourceType is Kafka's: 2 topic, 4 broker. For a broker,
// ResourceName "" is the cluster-wide default.
type ConfigRecord struct {
	ResourceType int8    `json:"resourceType"`
	ResourceName string  `json:"resourceName"`
	Key          string  `json:"key"`
	Value        *string `json:"value"`
}

// ProducerIDsRecord hands a block of producer ids to a broker (KIP-730).
type ProducerIDsRecord struct {
	Broker model.NodeID `json:"broker"`
	NextID int64        `json:"nextId"` // first id after the block
}

// Config resource types (Kafka's ConfigResource.Type).
const (
	ResourceTopic  int8 = 2
	ResourceBroker int8 = 4
)

// EncodeEntry encodes a batch of records as one log entry.
func EncodeEntry(recs []Record) ([]byte, error) { return json.Marshal(recs) }

// DecodeEntry decodes a log entry written by EncodeEntry.
func DecodeEntry(b []byte) ([]Record, error) {
	var recs []Record
	if err := json.Unmarshal(b, &recs); err != nil {
		return nil, fmt.Errorf("decode metadata entry: %w", err)
	}
	return recs, nil
}
