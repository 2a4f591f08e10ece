package group

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/coord/runtime"
	"github.com/sluice-io/sluice/internal/metadata"
	"github.com/sluice-io/sluice/internal/model"
)

// OffsetFetch handles an OffsetFetch: one group for v0-7, any number
// from v8 (KIP-709); null topics ask for every committed offset (v2+);
// v10 names topics by id. require_stable (v7+, KIP-447): a partition
// with a pending transactional offset commit answers
// UNSTABLE_OFFSET_COMMIT (txn_offsets.go).
func (c *Coordinator) OffsetFetch(req *kmsg.OffsetFetchRequest) func() *kmsg.OffsetFetchResponse {
	r := req.ResponseKind().(*kmsg.OffsetFetchResponse)
	if req.Version < 8 {
		return c.fetchSingle(req, r)
	}
	im := c.image()
	waits := make([]func(), len(req.Groups))
	r.Groups = make([]kmsg.OffsetFetchResponseGroup, len(req.Groups))
	for i, rg := range req.Groups {
		g := &r.Groups[i]
		*g = kmsg.NewOffsetFetchResponseGroup()
		g.Group = rg.Group
		var topics []fetchTopic
		var unknown []kmsg.OffsetFetchResponseGroupTopic
		if rg.Topics != nil {
			topics, unknown = fetchTopicsByGroup(im, req.Version, rg.Topics)
		}
		check := c.consumerFetchCheck(req.Version, rg) // member epoch (consumer_offsets.go)
		wait := c.fetchGroup(rg.Group, topics, req.RequireStable)
		waits[i] = func() {
			offsets, code := wait()
			if cc := check(); code == 0 {
				code = cc
			}
			g.ErrorCode = code
			if code == 0 {
				g.Topics = append(groupTopics(im, req.Version, offsets), unknown...)
			}
		}
	}
	return func() *kmsg.OffsetFetchResponse {
		for _, w := range waits {
			w()
		}
		return r
	}
}

// fetchSingle is OffsetFetch v0-7. Errors are per partition in v0-1 and
// top-level from v2.
func (c *Coordinator) fetchSingle(req *kmsg.OffsetFetchRequest, r *kmsg.OffsetFetchResponse) func() *kmsg.OffsetFetchResponse {
	var topics []fetchTopic
	if req.Topics != nil || req.Version < 2 {
		topics = make([]fetchTopic, 0, len(req.Topics))
		for _, t := range req.Topics {
			topics = append(topics, fetchTopic{topic: t.Topic, partitions: t.Partitions})
		}
	}
	wait := c.fetchGroup(req.Group, topics, req.Version >= 7 && req.RequireStable)
	return func() *kmsg.OffsetFetchResponse {
		offsets, code := wait()
		if code != 0 {
			if req.Version >= 2 {
				r.ErrorCode = code
				return r
			}
			offsets = (&shard{}).fetch(req.Group, topics) // -1 everywhere, with the error
		}
		var last *kmsg.OffsetFetchResponseTopic
		for _, o := range offsets {
			if last == nil || last.Topic != o.topic {
				r.Topics = append(r.Topics, kmsg.NewOffsetFetchResponseTopic())
				last = &r.Topics[len(r.Topics)-1]
				last.Topic = o.topic
			}
			p := kmsg.NewOffsetFetchResponseTopicPartition()
			p.Partition, p.Offset, p.LeaderEpoch, p.Metadata, p.ErrorCode = o.partition, o.offset, o.epoch, &o.metadata, code
			if code == 0 {
				p.ErrorCode = o.code
			}
			last.Partitions = append(last.Partitions, p)
		}
		return r
	}
}

// fetchGroup reads a group's offsets on its shard now; the wait returns
// them once everything written before is durable.
func (c *Coordinator) fetchGroup(groupID string, topics []fetchTopic, requireStable bool) func() ([]fetchedOffset, int16) {
	var out []fetchedOffset
	wait := c.submit(groupID, func(s *shard, _ *runtime.Writer) {
		out = s.fetch(groupID, topics)
		if requireStable {
			s.markUnstable(groupID, out)
		}
	})
	return func() ([]fetchedOffset, int16) {
		code := wait()
		return out, code
	}
}

// fetchTopicsByGroup turns a v8+ group's topics into names; v10 topic ids
// that are unknown are answered UNKNOWN_TOPIC_ID.
func fetchTopicsByGroup(im *metadata.Image, version int16, ts []kmsg.OffsetFetchRequestGroupTopic) ([]fetchTopic, []kmsg.OffsetFetchResponseGroupTopic) {
	topics := make([]fetchTopic, 0, len(ts))
	var unknown []kmsg.OffsetFetchResponseGroupTopic
	for _, t := range ts {
		name := t.Topic
		if version >= 10 {
			mt := im.TopicIDs[model.TopicID(t.TopicID)]
			if mt == nil {
				rt := kmsg.NewOffsetFetchResponseGroupTopic()
				rt.TopicID = t.TopicID
				for _, p := range t.Partitions {
					rp := kmsg.NewOffsetFetchResponseGroupTopicPartition()
					rp.Partition, rp.Offset, rp.LeaderEpoch, rp.ErrorCode = p, -1, -1, codeUnknownTopicID
					rt.Partitions = append(rt.Partitions, rp)
				}
				unknown = append(unknown, rt)
				continue
			}
			name = mt.Name
		}
		topics = append(topics, fetchTopic{topic: name, partitions: t.Partitions})
	}
	return topics, unknown
}

// groupTopics renders offsets as a v8+ group's topics (v10: by id; topics
// that no longer exist have no id and are left out).
func groupTopics(im *metadata.Image, version int16, offsets []fetchedOffset) []kmsg.OffsetFetchResponseGroupTopic {
	var out []kmsg.OffsetFetchResponseGroupTopic
	var last *kmsg.OffsetFetchResponseGroupTopic
	for _, o := range offsets {
		if last == nil || last.Topic != o.topic {
			rt := kmsg.NewOffsetFetchResponseGroupTopic()
			rt.Topic = o.topic
			if version >= 10 {
				t := im.Topics[o.topic]
				if t == nil {
					continue
				}
				rt.TopicID = t.ID
			}
			out = append(out, rt)
			last = &out[len(out)-1]
		}
		p := kmsg.NewOffsetFetchResponseGroupTopicPartition()
		meta := o.metadata
		p.Partition, p.Offset, p.LeaderEpoch, p.Metadata, p.ErrorCode = o.partition, o.offset, o.epoch, &meta, o.code
		last.Partitions = append(last.Partitions, p)
	}
	return out
}
