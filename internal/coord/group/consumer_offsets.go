package group

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/coord/runtime"
	"github.com/sluice-io/sluice/internal/model"
)

// validateConsumerCommit checks an OffsetCommit to a consumer group and
// returns the partitions that may be written; the others get their error
// code (Kafka's ConsumerGroup.validateOffsetCommit). A commit without a
// member (epoch < 0: an admin client, a consumer without group
// management) is accepted while the group has no members. Otherwise the
// member must exist and commit with v9+ (which carries the member
// epoch) at its epoch; an older epoch is accepted for partitions the
// member has held since that epoch or earlier (KIP-1251, Kafka 4.3),
// STALE_MEMBER_EPOCH for the rest; a newer one is FENCED_MEMBER_EPOCH.
func (s *shard) validateConsumerCommit(g *group, req *kmsg.OffsetCommitRequest, ps []commitPartition) []commitPartition {
	cg := g.consumer
	if req.Generation < 0 && len(cg.members) == 0 {
		return ps
	}
	fail := func(code int16) []commitPartition {
		for _, p := range ps {
			p.resp.ErrorCode = code
		}
		return nil
	}
	m := cg.members[req.MemberID]
	switch {
	case m == nil:
		return fail(codeUnknownMemberID)
	case req.Version < 9:
		return fail(codeUnsupportedVersion)
	case req.Generation == m.epoch:
		return ps
	case req.Generation > m.epoch:
		return fail(codeFencedMemberEpoch)
	}
	im := s.opts.metadataImage()
	var ok []commitPartition
	for _, p := range ps {
		var id model.TopicID
		if t := im.Topics[p.topic]; t != nil {
			id = t.ID
		}
		e, held := m.assigned[id][p.part.Partition]
		if !held {
			e, held = m.revoking[id][p.part.Partition]
		}
		if !held || e > req.Generation {
			p.resp.ErrorCode = codeStaleMemberEpoch
			continue
		}
		ok = append(ok, p)
	}
	return ok
}

// validateConsumerTxnCommit is the member check of a TxnOffsetCommit to a
// consumer group (validateOffsetCommit with isTransactional): as for a
// plain commit, for the whole request and whatever its version.
func (s *shard) validateConsumerTxnCommit(g *group, memberID string, epoch int32) int16 {
	cg := g.consumer
	if epoch < 0 && len(cg.members) == 0 {
		return 0
	}
	m := cg.members[memberID]
	switch {
	case m == nil:
		return codeUnknownMemberID
	case epoch > m.epoch:
		return codeFencedMemberEpoch
	case epoch < m.epoch:
		return codeStaleMemberEpoch
	}
	return 0
}

// validateConsumerFetch checks the member an OffsetFetch v9+ names in a
// consumer group (Kafka's ConsumerGroup.validateOffsetFetch): naming none
// (an admin client) is fine; a named member must exist and be at its
// epoch. Classic groups are not checked.
func (s *shard) validateConsumerFetch(gid string, memberID *string, epoch int32) int16 {
	g := s.groups[gid]
	if g == nil || g.consumer == nil || (memberID == nil && epoch < 0) {
		return 0
	}
	m := g.consumer.members[deref(memberID)]
	switch {
	case m == nil:
		return codeUnknownMemberID
	case epoch > m.epoch:
		return codeFencedMemberEpoch
	case epoch < m.epoch:
		return codeStaleMemberEpoch
	}
	return 0
}

// consumerFetchCheck runs validateConsumerFetch for a v9+ group of an
// OffsetFetch on the group's shard now; the wait returns its code.
func (c *Coordinator) consumerFetchCheck(version int16, rg kmsg.OffsetFetchRequestGroup) func() int16 {
	if version < 9 || c == nil {
		return func() int16 { return 0 }
	}
	var code int16
	wait := c.submit(rg.Group, func(s *shard, _ *runtime.Writer) {
		code = s.validateConsumerFetch(rg.Group, rg.MemberID, rg.MemberEpoch)
	})
	return func() int16 {
		if err := wait(); err != 0 {
			return 0 // the fetch itself reports it
		}
		return code
	}
}

// cleanupConsumerGroup expires a consumer group's offsets (Kafka's
// condition: offsets.retention.minutes after their commit, and only for
// topics no member subscribes to) and deletes the group once it has
// neither members nor offsets. Offsets go first, applied at once, so the
// group's tombstones see them gone, as a replay does.
func (s *shard) cleanupConsumerGroup(w *runtime.Writer, g *group, now, retention int64) {
	cg := g.consumer
	for topic, ps := range g.offsets {
		if cg.isSubscribed(topic) {
			continue
		}
		for p, o := range ps {
			if expired(o, o.commitMs, retention, now) {
				s.deleteOffsetApplied(w, g, topic, p)
			}
		}
	}
	if len(cg.members) == 0 && !g.hasOffsets() {
		s.writeConsumerGroupTombstones(w, g.id, cg)
	}
}

// deleteConsumerGroup handles one group of a DeleteGroups: only a group
// without members may go, with its offsets.
func (s *shard) deleteConsumerGroup(w *runtime.Writer, g *group) int16 {
	if len(g.consumer.members) > 0 {
		return codeNonEmptyGroup
	}
	for topic, ps := range g.offsets {
		for p := range ps {
			s.deleteOffsetApplied(w, g, topic, p)
		}
	}
	s.writeConsumerGroupTombstones(w, g.id, g.consumer)
	return 0
}

// deleteOffsetApplied drops a committed offset and writes its tombstone.
func (s *shard) deleteOffsetApplied(w *runtime.Writer, g *group, topic string, p int32) {
	delete(g.offsets[topic], p)
	if len(g.offsets[topic]) == 0 {
		delete(g.offsets, topic)
	}
	w.AppendApplied(offsetKey(g.id, topic, p), nil)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
