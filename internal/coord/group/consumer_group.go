package group

import (
	"regexp"
	"slices"

	"github.com/sluice-io/sluice/internal/metadata"
	"github.com/sluice-io/sluice/internal/model"
)

// KIP-848 consumer groups ("the consumer rebalance protocol", Kafka 4).
//
// A member talks to the coordinator with ConsumerGroupHeartbeat only; the
// coordinator computes every assignment with a server-side assignor
// (uniform or range) and hands it out incrementally, with no stop-the-
// world rebalance:
//
//   - The group epoch bumps whenever the group's subscriptions change: a
//     member joins, leaves, is fenced, changes its topics or regex, or the
//     metadata of a subscribed topic changes (new partitions; the
//     subscription metadata and its hash, KIP-1101).
//   - When the group epoch is ahead of the target assignment epoch, the
//     next heartbeat recomputes the target assignment (sticky) at the
//     group epoch.
//   - Each member reconciles towards its target (consumer_reconcile.go,
//     Kafka's CurrentAssignmentBuilder): partitions it must give up are
//     revoked first (UNREVOKED_PARTITIONS, the member keeps its epoch
//     until it reports them gone), then it moves to the target epoch and
//     gets the partitions that are free; partitions another member still
//     owns are given later (UNRELEASED_PARTITIONS). So a partition is never
//     owned by two members at once.
//   - Members heartbeat every group.consumer.heartbeat.interval.ms; one
//     silent for group.consumer.session.timeout.ms is fenced (removed), as
//     is one that does not revoke within its rebalance timeout.
//   - Epoch 0 joins (or rejoins), -1 leaves, -2 is a static member's
//     temporary leave: it keeps its assignment until its session times out
//     or its group.instance.id rejoins under a new member id and takes it
//     over. A stale epoch is FENCED_MEMBER_EPOCH (the previous epoch is
//     still accepted when the member owns a subset of its assignment: the
//     answer that bumped it may have been lost).
//   - OffsetCommit v9+ and OffsetFetch v9+ carry the member id and epoch
//     and are checked against the member (STALE_MEMBER_EPOCH); a commit
//     with an older epoch is accepted for partitions assigned at or
//     before it (KIP-1251, Kafka 4.3).
//
// State lives in __consumer_offsets in Kafka's record formats
// (consumer_records.go): every change is a record, applied through the
// same code on write and on replay (consumer_replay.go), so a reloaded
// shard has exactly the state the old one had.
//
// Groups of both kinds live in shard.groups: a *group whose consumer field
// is set is a consumer group, and its offsets are the group's offsets as
// for a classic group. Mixing follows Kafka 4: an empty classic group
// becomes a consumer group on its first ConsumerGroupHeartbeat and an
// empty consumer group a classic one on its first JoinGroup (the old
// type's records get tombstones, offsets stay). Not supported: classic
// members inside a consumer group (Kafka's online upgrade and downgrade
// with group.consumer.migration.policy): a ConsumerGroupHeartbeat to a
// classic group with members is GROUP_ID_NOT_FOUND ("not a consumer
// group", Kafka's answer when it does not convert), a JoinGroup to a
// consumer group with members INCONSISTENT_GROUP_PROTOCOL; rack-aware
// assignment; regex resolutions are not persisted (records version 16).

// memberState is a consumer group member's reconciliation state, with
// Kafka's MemberState byte values.
type memberState int8

const (
	// memberStable: reconciled to the target assignment of its epoch.
	memberStable memberState = 0
	// memberUnrevoked: must revoke partitions before it moves on.
	memberUnrevoked memberState = 1
	// memberUnreleased: at the target epoch, waiting for partitions
	// other members still own.
	memberUnreleased memberState = 2
	// memberUnknown: a state a newer Kafka wrote; the member is fenced.
	memberUnknown memberState = 127
)

// Special member epochs of ConsumerGroupHeartbeat.
const (
	joinEpoch        = 0
	leaveEpoch       = -1
	staticLeaveEpoch = -2
)

// consumerGroup is the KIP-848 part of a group. Guarded by the shard's
// lock, like everything in a shard's state.
type consumerGroup struct {
	epoch           int32
	assignmentEpoch int32 // epoch of the target assignment
	metadataHash    int64
	members         map[string]*cmember
	static          map[string]string                  // group.instance.id -> member id
	target          map[string]parts                   // member id -> target assignment
	subscription    map[string]topicMeta               // subscribed topics as of the group epoch
	owners          map[model.TopicID]map[int32]string // partition -> member owning it (assigned or revoking)

	// Derived, not persisted: the image the subscriptions were last
	// resolved against, and the compiled regexes with their topics.
	image    *metadata.Image
	regexes  map[string]*regexp.Regexp
	resolved map[string][]string
}

// cmember is one member of a consumer group.
type cmember struct {
	id                 string
	instanceID         *string
	rackID             *string
	clientID           string
	clientHost         string
	topics             []string // SubscribedTopicNames, sorted
	regex              string   // SubscribedTopicRegex; "" none
	rebalanceTimeoutMs int32
	assignor           string // ServerAssignor; "" none

	epoch, prevEpoch int32
	state            memberState
	assigned         parts
	revoking         parts // pending revocation
}

func newConsumerGroup() *consumerGroup {
	return &consumerGroup{
		members:      map[string]*cmember{},
		static:       map[string]string{},
		target:       map[string]parts{},
		subscription: map[string]topicMeta{},
		owners:       map[model.TopicID]map[int32]string{},
		regexes:      map[string]*regexp.Regexp{},
		resolved:     map[string][]string{},
	}
}

// consumerGroupState names the group state as Kafka's ConsumerGroupState:
// Empty, Assigning (a new target is due), Reconciling (a member is not
// at it yet) or Stable.
func (cg *consumerGroup) state() string {
	switch {
	case len(cg.members) == 0:
		return "Empty"
	case cg.epoch > cg.assignmentEpoch:
		return "Assigning"
	}
	for _, m := range cg.members {
		if !m.reconciledTo(cg.assignmentEpoch) {
			return "Reconciling"
		}
	}
	return "Stable"
}

// reconciledTo: the member is stable at epoch.
func (m *cmember) reconciledTo(epoch int32) bool {
	return m.state == memberStable && m.epoch == epoch
}

// owner returns the member owning a partition, or "".
func (cg *consumerGroup) owner(id model.TopicID, p int32) string {
	return cg.owners[id][p]
}

// setOwners marks (owner non-empty) or clears the partitions of p.
func (cg *consumerGroup) setOwners(p parts, owner string) {
	for id, ps := range p {
		m := cg.owners[id]
		if m == nil {
			if owner == "" {
				continue
			}
			m = map[int32]string{}
			cg.owners[id] = m
		}
		for pt := range ps {
			if owner == "" {
				delete(m, pt)
			} else {
				m[pt] = owner
			}
		}
		if len(m) == 0 {
			delete(cg.owners, id)
		}
	}
}

// isSubscribed reports whether a member subscribes to topic, by name or
// through a regex it resolved to.
func (cg *consumerGroup) isSubscribed(topic string) bool {
	_, ok := cg.subscription[topic]
	if ok {
		return true
	}
	for _, m := range cg.members {
		if slices.Contains(m.topics, topic) || slices.Contains(cg.resolved[m.regex], topic) {
			return true
		}
	}
	return false
}

// clone copies an assignment.
func (p parts) clone() parts {
	out := make(parts, len(p))
	for id, ps := range p {
		m := make(map[int32]int32, len(ps))
		for pt, e := range ps {
			m[pt] = e
		}
		out[id] = m
	}
	return out
}

// samePartitions compares the partitions of two assignments, not epochs.
func samePartitions(a, b parts) bool {
	if len(a) != len(b) {
		return false
	}
	for id, ps := range a {
		qs, ok := b[id]
		if !ok || len(ps) != len(qs) {
			return false
		}
		for pt := range ps {
			if _, ok := qs[pt]; !ok {
				return false
			}
		}
	}
	return true
}

// has reports whether p holds a partition.
func (p parts) has(id model.TopicID, pt int32) bool {
	_, ok := p[id][pt]
	return ok
}

// add puts a partition with its epoch.
func (p parts) add(id model.TopicID, pt, epoch int32) {
	m := p[id]
	if m == nil {
		m = map[int32]int32{}
		p[id] = m
	}
	m[pt] = epoch
}

// count is the number of partitions.
func (p parts) count() int {
	n := 0
	for _, ps := range p {
		n += len(ps)
	}
	return n
}
