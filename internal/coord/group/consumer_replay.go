package group

import (
	"fmt"
	"maps"
	"slices"

	"github.com/sluice-io/sluice/internal/coord/runtime"
)

// replayConsumer applies one consumer group record (key versions 3-8),
// on load and, through cwrite, when an op writes it: one code path, so a
// reloaded shard has the state the old one had. Records of later KIP-848
// and share group versions are skipped.
func (s *shard) replayConsumer(key, value []byte, tsMs int64) error {
	k, err := decodeCGKey(key)
	if err != nil {
		return err
	}
	if value == nil {
		s.replayConsumerTombstone(k)
		return nil
	}
	cg := s.consumerGroupFor(k.group, tsMs)
	switch k.version {
	case cgMetadataKey:
		var v cgMetadata
		err = v.decode(value)
		cg.epoch, cg.metadataHash = v.epoch, v.metadataHash
	case cgPartitionMetadataKey:
		cg.subscription, err = decodePartitionMetadata(value)
	case cgMemberKey:
		var v cgMemberValue
		if err = v.decode(value); err == nil {
			cg.applyMember(k.member, &v)
		}
	case cgTargetMetadataKey:
		cg.assignmentEpoch, err = decodeEpoch(value)
	case cgTargetMemberKey:
		var p parts
		if p, err = decodeTarget(value); err == nil {
			cg.target[k.member] = p
		}
	case cgCurrentKey:
		var v cgCurrentValue
		if err = v.decode(value); err == nil {
			cg.applyCurrent(cg.memberFor(k.member), &v)
		}
	}
	if err != nil {
		return fmt.Errorf("consumer group %q record v%d: %w", k.group, k.version, err)
	}
	return nil
}

// replayConsumerTombstone deletes what a record kept. The group itself
// goes with its ConsumerGroupMetadata tombstone, written last when a
// group is deleted or converted; its offsets stay.
func (s *shard) replayConsumerTombstone(k cgKeyOf) {
	g := s.groups[k.group]
	if g == nil || g.consumer == nil {
		return
	}
	cg := g.consumer
	switch k.version {
	case cgMetadataKey:
		g.consumer = nil
		if !g.hasOffsets() {
			delete(s.groups, k.group)
		}
	case cgPartitionMetadataKey:
		cg.subscription = map[string]topicMeta{}
	case cgMemberKey:
		if m := cg.members[k.member]; m != nil {
			cg.setOwners(m.assigned, "")
			cg.setOwners(m.revoking, "")
			if m.instanceID != nil && cg.static[*m.instanceID] == m.id {
				delete(cg.static, *m.instanceID)
			}
			delete(cg.members, k.member)
		}
	case cgTargetMetadataKey:
		cg.assignmentEpoch = 0
	case cgTargetMemberKey:
		delete(cg.target, k.member)
	case cgCurrentKey:
		if m := cg.members[k.member]; m != nil {
			cg.applyCurrent(m, &cgCurrentValue{epoch: leaveEpoch, prevEpoch: leaveEpoch, state: memberStable})
		}
	}
}

// consumerGroupFor returns the consumer part of a group, making the group
// a consumer group. A classic group in its place can only be one without
// members (conversions write its tombstone first): it is replaced,
// keeping its offsets.
func (s *shard) consumerGroupFor(id string, tsMs int64) *consumerGroup {
	g := s.groups[id]
	if g == nil {
		g = newGroup(id, tsMs)
		s.groups[id] = g
	}
	if g.consumer == nil {
		if len(g.members) > 0 || g.protocolType != "" {
			ng := newGroup(id, tsMs)
			ng.offsets = g.offsets
			s.groups[id], g = ng, ng
		}
		g.consumer = newConsumerGroup()
	}
	return g.consumer
}

// memberFor returns a member, creating it as a new member would be:
// epoch 0, stable, nothing assigned.
func (cg *consumerGroup) memberFor(id string) *cmember {
	m := cg.members[id]
	if m == nil {
		m = &cmember{id: id, rebalanceTimeoutMs: -1, assigned: parts{}, revoking: parts{}}
		cg.members[id] = m
	}
	return m
}

// applyMember takes a member's subscription (ConsumerGroupMemberMetadata).
func (cg *consumerGroup) applyMember(id string, v *cgMemberValue) {
	m := cg.memberFor(id)
	if m.instanceID != nil && cg.static[*m.instanceID] == id {
		delete(cg.static, *m.instanceID)
	}
	m.instanceID, m.rackID, m.clientID, m.clientHost = v.instanceID, v.rackID, v.clientID, v.clientHost
	m.topics = slices.Sorted(slices.Values(v.topics))
	m.regex, m.assignor = "", ""
	if v.regex != nil {
		m.regex = *v.regex
	}
	if v.assignor != nil {
		m.assignor = *v.assignor
	}
	m.rebalanceTimeoutMs = v.rebalanceTimeoutMs
	if m.instanceID != nil {
		cg.static[*m.instanceID] = id
	}
}

// applyCurrent takes a member's reconciliation state
// (ConsumerGroupCurrentMemberAssignment), moving the partitions it owns.
func (cg *consumerGroup) applyCurrent(m *cmember, v *cgCurrentValue) {
	cg.setOwners(m.assigned, "")
	cg.setOwners(m.revoking, "")
	m.epoch, m.prevEpoch, m.state = v.epoch, v.prevEpoch, v.state
	m.assigned, m.revoking = v.assigned, v.revoking
	if m.assigned == nil {
		m.assigned = parts{}
	}
	if m.revoking == nil {
		m.revoking = parts{}
	}
	cg.setOwners(m.assigned, m.id)
	cg.setOwners(m.revoking, m.id)
}

// cwrite applies a consumer group record and writes it: the op sees its
// effect at once, and a reload replays the same record the same way.
func (s *shard) cwrite(w *runtime.Writer, key, value []byte) {
	if err := s.replayConsumer(key, value, w.Now().UnixMilli()); err != nil {
		panic(fmt.Sprintf("group: a consumer group record this broker encoded does not decode: %v", err))
	}
	w.AppendApplied(key, value)
}

func (s *shard) writeGroupEpoch(w *runtime.Writer, gid string, epoch int32, hash int64) {
	v := cgMetadata{epoch: epoch, metadataHash: hash}
	s.cwrite(w, cgKey(cgMetadataKey, gid, ""), v.encode())
}

func (s *shard) writeSubscription(w *runtime.Writer, gid string, topics map[string]topicMeta) {
	s.cwrite(w, cgKey(cgPartitionMetadataKey, gid, ""), encodePartitionMetadata(topics))
}

// writeMember writes a member's subscription, m being the member as it
// should become.
func (s *shard) writeMember(w *runtime.Writer, gid string, m *cmember) {
	v := cgMemberValue{instanceID: m.instanceID, rackID: m.rackID, clientID: m.clientID, clientHost: m.clientHost,
		topics: m.topics, rebalanceTimeoutMs: m.rebalanceTimeoutMs}
	if v.topics == nil {
		v.topics = []string{}
	}
	if m.regex != "" {
		v.regex = &m.regex
	}
	if m.assignor != "" {
		v.assignor = &m.assignor
	}
	s.cwrite(w, cgKey(cgMemberKey, gid, m.id), v.encode())
}

func (s *shard) writeTarget(w *runtime.Writer, gid, mid string, p parts) {
	s.cwrite(w, cgKey(cgTargetMemberKey, gid, mid), encodeTarget(p))
}

func (s *shard) writeTargetEpoch(w *runtime.Writer, gid string, epoch int32) {
	s.cwrite(w, cgKey(cgTargetMetadataKey, gid, ""), encodeEpoch(epoch))
}

func (s *shard) writeCurrent(w *runtime.Writer, gid, mid string, v *cgCurrentValue) {
	s.cwrite(w, cgKey(cgCurrentKey, gid, mid), v.encode())
}

// writeMemberRemoval removes a member as Kafka does: its current
// assignment, its target and its subscription get tombstones.
func (s *shard) writeMemberRemoval(w *runtime.Writer, gid, mid string) {
	s.cwrite(w, cgKey(cgCurrentKey, gid, mid), nil)
	s.cwrite(w, cgKey(cgTargetMemberKey, gid, mid), nil)
	s.cwrite(w, cgKey(cgMemberKey, gid, mid), nil)
}

// writeConsumerGroupTombstones deletes a consumer group without members (Kafka's
// ConsumerGroup.createGroupTombstoneRecords); the metadata goes last.
func (s *shard) writeConsumerGroupTombstones(w *runtime.Writer, gid string, cg *consumerGroup) {
	for _, mid := range slices.Sorted(maps.Keys(cg.members)) {
		s.writeMemberRemoval(w, gid, mid)
	}
	s.cwrite(w, cgKey(cgTargetMetadataKey, gid, ""), nil)
	s.cwrite(w, cgKey(cgPartitionMetadataKey, gid, ""), nil)
	s.cwrite(w, cgKey(cgMetadataKey, gid, ""), nil)
}
