package group

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/coord/runtime"
	"github.com/sluice-io/sluice/internal/metadata"
	"github.com/sluice-io/sluice/internal/model"
)

// OffsetCommit handles an OffsetCommit: partitions of unknown topics get
// UNKNOWN_TOPIC_OR_PARTITION (v10+ names topics by id: UNKNOWN_TOPIC_ID),
// the rest is committed by the group's shard and answered once durable.
func (c *Coordinator) OffsetCommit(req *kmsg.OffsetCommitRequest) func() *kmsg.OffsetCommitResponse {
	r := req.ResponseKind().(*kmsg.OffsetCommitResponse)
	im := c.image()
	// Sized up front: parts keeps pointers into these slices.
	r.Topics = make([]kmsg.OffsetCommitResponseTopic, len(req.Topics))
	var parts []commitPartition
	for i := range req.Topics {
		rt, st := &req.Topics[i], &r.Topics[i]
		*st = kmsg.NewOffsetCommitResponseTopic()
		st.Topic, st.TopicID = rt.Topic, rt.TopicID
		st.Partitions = make([]kmsg.OffsetCommitResponseTopicPartition, len(rt.Partitions))
		t, missing := commitTopic(im, req.Version, rt)
		for j := range rt.Partitions {
			sp := &st.Partitions[j]
			*sp = kmsg.NewOffsetCommitResponseTopicPartition()
			sp.Partition = rt.Partitions[j].Partition
			if t == nil || sp.Partition < 0 || int(sp.Partition) >= len(t.Partitions) {
				sp.ErrorCode = missing
				continue
			}
			parts = append(parts, commitPartition{topic: t.Name, part: &rt.Partitions[j], resp: sp})
		}
	}
	wait := func() int16 { return codeInvalidGroupID }
	if req.Group != "" {
		wait = c.submit(req.Group, func(s *shard, w *runtime.Writer) { s.commit(w, req, parts) })
	}
	return func() *kmsg.OffsetCommitResponse {
		if code := wait(); code != 0 {
			for _, p := range parts {
				p.resp.ErrorCode = code
			}
		}
		return r
	}
}

func commitTopic(im *metadata.Image, version int16, rt *kmsg.OffsetCommitRequestTopic) (*metadata.Topic, int16) {
	if version >= 10 {
		return im.TopicIDs[model.TopicID(rt.TopicID)], codeUnknownTopicID
	}
	return im.Topics[rt.Topic], codeUnknownTopicOrPartition
}

// OffsetDelete handles an OffsetDelete.
func (c *Coordinator) OffsetDelete(req *kmsg.OffsetDeleteRequest) func() *kmsg.OffsetDeleteResponse {
	r := req.ResponseKind().(*kmsg.OffsetDeleteResponse)
	if req.Group == "" {
		r.ErrorCode = codeInvalidGroupID
		return func() *kmsg.OffsetDeleteResponse { return r }
	}
	im := c.image()
	known := *req
	known.Topics = nil
	var unknown []kmsg.OffsetDeleteResponseTopic
	for _, t := range req.Topics {
		if im.Topics[t.Topic] != nil {
			known.Topics = append(known.Topics, t)
			continue
		}
		rt := kmsg.NewOffsetDeleteResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewOffsetDeleteResponseTopicPartition()
			rp.Partition, rp.ErrorCode = p.Partition, codeUnknownTopicOrPartition
			rt.Partitions = append(rt.Partitions, rp)
		}
		unknown = append(unknown, rt)
	}
	wait := c.submit(req.Group, func(s *shard, w *runtime.Writer) { s.offsetDelete(w, &known, r) })
	return func() *kmsg.OffsetDeleteResponse {
		if code := wait(); code != 0 {
			r.ErrorCode, r.Topics = code, nil
			return r
		}
		if r.ErrorCode == 0 {
			r.Topics = append(r.Topics, unknown...)
		}
		return r
	}
}
