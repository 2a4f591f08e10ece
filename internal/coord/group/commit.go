package group

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/coord/runtime"
)

// commitPartition is one partition of an OffsetCommit that passed the
// broker-side checks (the topic exists), named by topic name.
type commitPartition struct {
	topic string
	part  *kmsg.OffsetCommitRequestTopicPartition
	resp  *kmsg.OffsetCommitResponseTopicPartition
}

// commit handles an OffsetCommit for the partitions in parts: the group
// and member are checked (a simple consumer, generation -1 and no member
// id, may commit only while the group has no members), metadata larger
// than offset.metadata.max.bytes is refused per partition, and the rest
// is written as one batch.
func (s *shard) commit(w *runtime.Writer, req *kmsg.OffsetCommitRequest, parts []commitPartition) {
	if g := s.groups[req.Group]; g != nil && g.consumer != nil {
		parts = s.validateConsumerCommit(g, req, parts) // member epochs (consumer_offsets.go)
	} else if code := s.validateCommit(w, req); code != 0 {
		for _, p := range parts {
			p.resp.ErrorCode = code
		}
		return
	}
	now := w.Now().UnixMilli()
	expire := int64(-1)
	if req.Version >= 2 && req.Version <= 4 && req.RetentionTimeMillis >= 0 {
		expire = now + req.RetentionTimeMillis
	}
	for _, p := range parts {
		meta := ""
		if p.part.Metadata != nil {
			meta = *p.part.Metadata
		}
		if len(meta) > s.opts.OffsetMetadataMaxBytes {
			p.resp.ErrorCode = codeOffsetMetadataTooLarge
			continue
		}
		o := &offset{offset: p.part.Offset, leaderEpoch: p.part.LeaderEpoch, metadata: meta, commitMs: now, expireMs: expire}
		if req.Version < 6 {
			o.leaderEpoch = -1
		}
		if req.Version == 1 && p.part.Timestamp >= 0 {
			o.commitMs = p.part.Timestamp // v1 commits carry their own time
		}
		w.Append(offsetKey(req.Group, p.topic, p.part.Partition), offsetValue(o))
	}
}

// validateCommitter checks a committer that names itself (a generation, a
// member or an instance id): it must be a current member, of the current
// generation. named is false for an anonymous commit, which each kind of
// commit judges by its own rule.
func (g *group) validateCommitter(generation int32, memberID string, instanceID *string) (code int16, named bool) {
	if generation < 0 && memberID == "" && instanceID == nil {
		return 0, false
	}
	if code := g.validateMember(memberID, instanceID); code != 0 {
		return code, true
	}
	if generation != g.generation {
		return codeIllegalGeneration, true
	}
	return 0, true
}

// validateCommit is Kafka's ClassicGroup.validateOffsetCommit; a group
// that does not exist accepts only simple commits.
func (s *shard) validateCommit(w *runtime.Writer, req *kmsg.OffsetCommitRequest) int16 {
	g := s.groups[req.Group]
	if g == nil {
		if req.Generation < 0 {
			return 0
		}
		return codeIllegalGeneration
	}
	if g.state == Dead {
		return codeCoordinatorNotAvailable
	}
	if req.Generation < 0 && g.state == Empty {
		return 0
	}
	if code, named := g.validateCommitter(req.Generation, req.MemberID, req.InstanceID); code != 0 {
		return code
	} else if !named && g.state != Empty {
		return codeUnknownMemberID
	}
	if g.state == CompletingRebalance {
		return codeRebalanceInProgress
	}
	if m := g.members[req.MemberID]; m != nil {
		s.scheduleHeartbeat(w, g, m, m.sessionTimeoutMs) // a commit proves the member alive
	}
	return 0
}
