package group

import (
	"fmt"
	"slices"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/batch"
	"github.com/sluice-io/sluice/internal/coord/runtime"
	"github.com/sluice-io/sluice/internal/model"
)

// shard is the state of one __consumer_offsets partition: its groups and
// their offsets. It is the runtime.Machine of that partition; every
// method runs under the runtime shard's lock.
type shard struct {
	opts      *Options
	partition int32
	groups    map[string]*group
	// Transactional offset commits (txn_offsets.go).
	pendingTxns  map[model.ProducerID]pendingTxn
	txnProducers map[model.ProducerID]txnProducer
}

func newShard(opts *Options, partition int32) *shard {
	return &shard{opts: opts, partition: partition, groups: map[string]*group{}}
}

// Replay applies one __consumer_offsets record (Kafka's format, see
// records.go and consumer_records.go). Records of other group types are
// skipped.
func (s *shard) Replay(h batch.Header, rec *batch.Record) error {
	v, err := keyVersion(rec.Key)
	if err != nil {
		return err
	}
	switch v {
	case 0, 1:
		var k kmsg.OffsetCommitKey
		if err := k.ReadFrom(rec.Key); err != nil {
			return fmt.Errorf("offset commit key: %w", err)
		}
		if len(h) >= batch.HeaderSize && h.IsTransactional() && h.ProducerID() >= 0 {
			return s.replayTxnOffset(h, k, rec) // pending until its marker (txn_offsets.go)
		}
		return s.replayOffset(k, rec)
	case 2:
		var k kmsg.GroupMetadataKey
		if err := k.ReadFrom(rec.Key); err != nil {
			return fmt.Errorf("group metadata key: %w", err)
		}
		if rec.Value == nil {
			s.replayGroupTombstone(k.Group)
			return nil
		}
		var val kmsg.GroupMetadataValue
		if err := val.ReadFrom(rec.Value); err != nil {
			return fmt.Errorf("group metadata value of %q: %w", k.Group, err)
		}
		s.replayGroup(k.Group, &val, rec.Timestamp)
	case cgMetadataKey, cgPartitionMetadataKey, cgMemberKey, cgTargetMetadataKey, cgTargetMemberKey, cgCurrentKey:
		return s.replayConsumer(rec.Key, rec.Value, rec.Timestamp) // KIP-848 (consumer_replay.go)
	}
	return nil
}

func (s *shard) replayOffset(k kmsg.OffsetCommitKey, rec *batch.Record) error {
	if rec.Value == nil {
		if g := s.groups[k.Group]; g != nil {
			if ps := g.offsets[k.Topic]; ps != nil {
				delete(ps, k.Partition)
				if len(ps) == 0 {
					delete(g.offsets, k.Topic)
				}
			}
		}
		return nil
	}
	o, err := decodeOffset(rec.Value)
	if err != nil {
		return fmt.Errorf("group %q %s-%d: %w", k.Group, k.Topic, k.Partition, err)
	}
	o.recordOffset = rec.Offset
	g := s.groups[k.Group]
	if g == nil {
		// A simple consumer's group exists through its offsets alone.
		g = newGroup(k.Group, rec.Timestamp)
		s.groups[k.Group] = g
	}
	ps := g.offsets[k.Topic]
	if ps == nil {
		ps = map[int32]*offset{}
		g.offsets[k.Topic] = ps
	}
	ps[k.Partition] = o
	return nil
}

// replayGroup rebuilds a group from its snapshot, keeping its offsets:
// Stable with the recorded members and assignments, or Empty.
func (s *shard) replayGroup(id string, v *kmsg.GroupMetadataValue, ts int64) {
	g := newGroup(id, v.CurrentStateTimestamp)
	if old := s.groups[id]; old != nil {
		g.offsets = old.offsets
	}
	protocol := ""
	if v.Protocol != nil {
		protocol = *v.Protocol
	}
	last := make(map[string]int, len(v.Members))
	for i := range v.Members {
		last[v.Members[i].MemberID] = i
	}
	for i, vm := range v.Members {
		if last[vm.MemberID] != i {
			continue // a member id listed twice: the later entry wins, as in Kafka's map of members
		}
		m := &member{id: vm.MemberID, instanceID: vm.InstanceID, clientID: vm.ClientID, clientHost: vm.ClientHost,
			rebalanceTimeoutMs: vm.RebalanceTimeoutMillis, sessionTimeoutMs: vm.SessionTimeoutMillis,
			protocolType: v.ProtocolType, assignment: slices.Clone(vm.Assignment),
			protocols: []kmsg.JoinGroupRequestProtocol{{Name: protocol, Metadata: slices.Clone(vm.Subscription)}}}
		if m.rebalanceTimeoutMs == -1 {
			m.rebalanceTimeoutMs = m.sessionTimeoutMs
		}
		g.add(m)
	}
	g.protocolType, g.protocol, g.generation = v.ProtocolType, protocol, v.Generation
	g.leader = ""
	if v.Leader != nil {
		g.leader = *v.Leader
	}
	if len(g.members) > 0 {
		g.state = Stable
	}
	g.subscribed = g.computeSubscribed()
	s.groups[id] = g
}

// replayGroupTombstone removes a group; offsets outlive it (they have
// tombstones of their own).
func (s *shard) replayGroupTombstone(id string) {
	g := s.groups[id]
	if g == nil {
		return
	}
	if !g.hasOffsets() {
		delete(s.groups, id)
		return
	}
	ng := newGroup(id, g.stateTimestamp)
	ng.offsets = g.offsets
	s.groups[id] = ng
}

// Loaded arms the session timeout of every loaded member and the
// periodic offset expiration.
func (s *shard) Loaded(w *runtime.Writer) {
	for _, g := range s.groups {
		for _, m := range g.members {
			s.scheduleHeartbeat(w, g, m, m.sessionTimeoutMs)
		}
	}
	s.consumerLoaded(w) // consumer_timers.go
	s.scheduleCleanup(w)
}

// Unloaded answers every parked JoinGroup and SyncGroup: this broker is
// no longer the coordinator.
func (s *shard) Unloaded() {
	for _, g := range s.groups {
		for _, m := range g.members {
			if m.join != nil {
				r := joinErrorResponse(m.joinVer, m.id, codeNotCoordinator)
				m.join(r)
				m.join = nil
			}
			if m.sync != nil {
				r := kmsg.NewPtrSyncGroupResponse()
				r.ErrorCode = codeNotCoordinator
				m.sync(r)
				m.sync = nil
			}
		}
	}
}

func (s *shard) group(id string) *group { return s.groups[id] }
