// Package model holds the value types shared by every layer of Sluice:
// offsets, epochs, producer and node ids, and topic-partition names.
// Distinct named types keep an offset from being passed as an epoch.
//
// All types here are plain values and safe for concurrent use.
package model

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
)

// Offset is a position in a partition log. Offsets are dense per partition.
type Offset int64

// LeaderEpoch numbers the leaderships of a partition; it grows by one on
// every leader change.
type LeaderEpoch int32

// ProducerID identifies an idempotent or transactional producer.
type ProducerID int64

// ProducerEpoch fences older incarnations of a producer id.
type ProducerEpoch int16

// NodeID is a broker or controller id (Kafka's node.id).
type NodeID int32

// NoProducerID is the producer id of a batch written without idempotence.
const NoProducerID ProducerID = -1

// TopicID is Kafka's 16-byte topic UUID (KIP-516).
type TopicID [16]byte

// NewTopicID returns a random, non-zero topic id.
func NewTopicID() TopicID {
	var id TopicID
	for id == (TopicID{}) {
		if _, err := rand.Read(id[:]); err != nil {
			panic(fmt.Sprintf("crypto/rand: %v", err))
		}
	}
	return id
}

// IsZero reports whether id is the all-zero id Kafka uses for "no id".
func (id TopicID) IsZero() bool { return id == TopicID{} }

// String renders the id the way Kafka tools print it: URL-safe base64
// without padding.
func (id TopicID) String() string { return base64.RawURLEncoding.EncodeToString(id[:]) }

// ParseTopicID parses the form String prints.
func ParseTopicID(s string) (TopicID, error) {
	var id TopicID
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != 16 {
		return id, fmt.Errorf("topic id %q: not 16 bytes of URL-safe base64", s)
	}
	copy(id[:], b)
	return id, nil
}

// TopicPartition names one partition of a topic.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// String renders the partition as Kafka names its directory: topic-partition.
func (tp TopicPartition) String() string { return fmt.Sprintf("%s-%d", tp.Topic, tp.Partition) }

// MarshalText renders the id as String does (for JSON and map keys).
func (id TopicID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText parses the form MarshalText writes.
func (id *TopicID) UnmarshalText(b []byte) error {
	v, err := ParseTopicID(string(b))
	if err != nil {
		return err
	}
	*id = v
	return nil
}
