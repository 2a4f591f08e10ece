package runtime

import (
	"github.com/sluice-io/sluice/internal/metadata"
	"github.com/sluice-io/sluice/internal/model"
	"github.com/sluice-io/sluice/internal/replica"
)

// Replicas finds this broker's local replica of a partition.
type Replicas interface {
	Get(tp model.TopicPartition) *replica.Partition
}

// Leadership identifies one leadership of a coordinator partition: a shard
// loaded for it is stale once either field changes.
type Leadership struct {
	Epoch   model.LeaderEpoch
	TopicID model.TopicID
}

// LedPartitions lists the partitions of the internal topic that node leads
// in im and holds locally: the shards a coordinator must have loaded.
func LedPartitions(im *metadata.Image, topic string, node model.NodeID, replicas Replicas) map[int32]Leadership {
	want := map[int32]Leadership{}
	t := im.Topics[topic]
	if t == nil {
		return want
	}
	for i, p := range t.Partitions {
		tp := model.TopicPartition{Topic: topic, Partition: int32(i)}
		if p.Leader == node && replicas.Get(tp) != nil {
			want[int32(i)] = Leadership{Epoch: p.LeaderEpoch, TopicID: t.ID}
		}
	}
	return want
}
