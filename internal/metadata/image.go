package metadata

import (
	"sort"

	"github.com/sluice-io/sluice/internal/model"
)

// Image is the whole cluster state at one applied log index. Immutable
// once published: safe for concurrent use by any number of readers.
type Image struct {
	Index     uint64 // raft index of the last applied entry
	ClusterID string
	Brokers   map[model.NodeID]*Broker
	Topics    map[string]*Topic
	TopicIDs  map[model.TopicID]*Topic `json:"-"`
	// BrokerConfigs holds dynamic broker configs; the key "" is the
	// cluster-wide default (Kafka's <default> entity).
	BrokerConfigs map[string]map[string]string
	// NextProducerID is the first producer id not yet handed out in a
	// block (KIP-730).
	NextProducerID int64
	// Features holds the feature levels finalized by a record; the
	// others are at their defaults (FinalizedFeatures, features.go).
	Features map[string]int16 `json:",omitempty"`
}

// Broker is a registered broker and where clients reach it.
type Broker struct {
	ID          model.NodeID
	Host        string
	Port        int32
	Rack        string
	Fenced      bool
	Incarnation model.TopicID // the registered process's (BrokerRecord)
	// Epoch is the broker epoch: the index of the record that registered
	// this incarnation (fencing and unfencing keep it). Heartbeats of
	// another epoch are stale (a replaced process).
	Epoch int64
}

// Record is the BrokerRecord of b with Fenced set to fenced: fencing and
// unfencing keep every other field.
func (b *Broker) Record(fenced bool) BrokerRecord {
	return BrokerRecord{ID: b.ID, Host: b.Host, Port: b.Port, Rack: b.Rack, Fenced: fenced, Incarnation: b.Incarnation}
}

// Topic is a topic with its partitions and config overrides.
type Topic struct {
	Name       string
	ID         model.TopicID
	Partitions []Partition // index == partition id
	Configs    map[string]string
}

// Partition is one partition's placement and leadership.
type Partition struct {
	Leader      model.NodeID
	LeaderEpoch model.LeaderEpoch
	Epoch       int32 // partition epoch: bumps on any change
	Replicas    []model.NodeID
	ISR         []model.NodeID
	// ELR are the eligible leader replicas (KIP-966): replicas outside
	// the ISR that hold every committed record, because they left the
	// ISR while it was below min.insync.replicas (the high watermark
	// stands still then). A partition whose ISR has no live member is
	// led by one of them before any unclean election.
	ELR []model.NodeID
	// Recovering is KIP-704's leader recovery state RECOVERING: the
	// leader was elected uncleanly and has not yet told the controller
	// (AlterPartition) that it recovered; until then its ISR is itself
	// alone.
	Recovering bool `json:",omitempty"`
}

// Empty returns the image before any record.
func Empty() *Image {
	return &Image{
		Brokers:       map[model.NodeID]*Broker{},
		Topics:        map[string]*Topic{},
		TopicIDs:      map[model.TopicID]*Topic{},
		BrokerConfigs: map[string]map[string]string{},
	}
}

// TopicNames returns the topic names in sorted order.
func (im *Image) TopicNames() []string {
	names := make([]string, 0, len(im.Topics))
	for n := range im.Topics {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// BrokerIDs returns the registered broker ids in ascending order.
func (im *Image) BrokerIDs() []model.NodeID {
	ids := make([]model.NodeID, 0, len(im.Brokers))
	for id := range im.Brokers {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}
