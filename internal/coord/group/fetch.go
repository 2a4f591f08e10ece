package group

import (
	"maps"
	"slices"
)

// fetchedOffset is one partition of an OffsetFetch answer.
type fetchedOffset struct {
	topic     string
	partition int32
	offset    int64
	epoch     int32
	metadata  string
	code      int16 // UNSTABLE_OFFSET_COMMIT under require_stable (txn_offsets.go)
}

// fetch reads a group's committed offsets: of the partitions asked for
// (-1 where none is committed), or every one (topics nil). A group that
// does not exist has no offsets.
func (s *shard) fetch(groupID string, topics []fetchTopic) []fetchedOffset {
	g := s.groups[groupID]
	if g != nil && g.state == Dead {
		g = nil
	}
	var out []fetchedOffset
	if topics == nil {
		if g == nil {
			return nil
		}
		for _, t := range slices.Sorted(maps.Keys(g.offsets)) {
			for _, p := range slices.Sorted(maps.Keys(g.offsets[t])) {
				out = append(out, toFetched(t, p, g.offsets[t][p]))
			}
		}
		return out
	}
	for _, t := range topics {
		for _, p := range t.partitions {
			var o *offset
			if g != nil {
				o = g.offsets[t.topic][p]
			}
			out = append(out, toFetched(t.topic, p, o))
		}
	}
	return out
}

// fetchTopic is one topic an OffsetFetch asks about.
type fetchTopic struct {
	topic      string
	partitions []int32
}

func toFetched(topic string, p int32, o *offset) fetchedOffset {
	if o == nil {
		return fetchedOffset{topic: topic, partition: p, offset: -1, epoch: -1}
	}
	return fetchedOffset{topic: topic, partition: p, offset: o.offset, epoch: o.leaderEpoch, metadata: o.metadata}
}
