package group

import (
	"bytes"
	"slices"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// consumerProtocolType is the protocol type of Kafka consumers; their
// subscriptions name the topics the group reads.
const consumerProtocolType = "consumer"

// group is one classic group and its committed offsets. Guarded by the
// shard's lock, like everything in a shard's state.
type group struct {
	id             string
	state          State
	prevState      State
	stateTimestamp int64 // ms of the last transition; -1 unknown (old records)
	protocolType   string
	protocol       string // selected protocol; "" before the first generation
	generation     int32
	leader         string

	members      map[string]*member
	order        []string            // member ids in join order (leader election, join responses)
	pending      map[string]struct{} // dynamic members told MEMBER_ID_REQUIRED (KIP-394)
	static       map[string]string   // group.instance.id -> member id (KIP-345)
	protocols    map[string]int      // protocol name -> members supporting it
	awaitingJoin int                 // members with a parked JoinGroup
	pendingSync  map[string]struct{} // members yet to SyncGroup this generation
	newMember    bool                // a member joined during the initial rebalance delay
	subscribed   map[string]bool     // topics of consumer-protocol members; nil unknown

	offsets map[string]map[int32]*offset // topic -> partition -> committed

	// consumer is set when the group is a KIP-848 consumer group
	// (consumer_group.go); the classic fields above are then unused.
	consumer *consumerGroup
}

// member is one member of a classic group.
type member struct {
	id                 string
	instanceID         *string
	clientID           string
	clientHost         string
	rebalanceTimeoutMs int32
	sessionTimeoutMs   int32
	protocolType       string
	protocols          []kmsg.JoinGroupRequestProtocol
	assignment         []byte
	isNew              bool // joined and not yet given a generation

	join      joinResponder // non-nil while a JoinGroup is parked
	joinVer   int16         // version of the parked JoinGroup
	sync      syncResponder // non-nil while a SyncGroup is parked
	syncProto bool          // the parked SyncGroup is v5+ (protocol fields)
}

type (
	joinResponder func(*kmsg.JoinGroupResponse)
	syncResponder func(*kmsg.SyncGroupResponse)
)

// offset is one committed offset (OffsetCommitValue).
type offset struct {
	offset      int64
	leaderEpoch int32
	metadata    string
	commitMs    int64
	expireMs    int64 // -1: none (only v1 commits and v2-v4 retention set it)
	// recordOffset is the log offset of the commit record: of a plain
	// and a transactional commit, the later record wins (txn_offsets.go).
	recordOffset int64
}

func newGroup(id string, nowMs int64) *group {
	return &group{
		id:             id,
		state:          Empty,
		stateTimestamp: nowMs,
		members:        map[string]*member{},
		pending:        map[string]struct{}{},
		static:         map[string]string{},
		protocols:      map[string]int{},
		pendingSync:    map[string]struct{}{},
		offsets:        map[string]map[int32]*offset{},
	}
}

func (g *group) transition(s State, nowMs int64) {
	g.prevState, g.state, g.stateTimestamp = g.state, s, nowMs
}

func (g *group) isLeader(id string) bool { return g.leader != "" && g.leader == id }

// add makes m a member; it becomes the leader of a leaderless group.
func (g *group) add(m *member) {
	if len(g.members) == 0 {
		g.protocolType = m.protocolType
	}
	g.members[m.id] = m
	g.order = append(g.order, m.id)
	delete(g.pending, m.id)
	if m.instanceID != nil {
		g.static[*m.instanceID] = m.id
	}
	for _, p := range m.protocols {
		g.protocols[p.Name]++
	}
	if m.join != nil {
		g.awaitingJoin++
	}
	if g.leader == "" {
		g.leader = m.id
	}
}

// remove drops a member (or a pending member) without answering it.
func (g *group) remove(id string) *member {
	delete(g.pending, id)
	m := g.members[id]
	if m == nil {
		return nil
	}
	delete(g.members, id)
	g.order = slices.DeleteFunc(g.order, func(s string) bool { return s == id })
	delete(g.pendingSync, id)
	if m.instanceID != nil && g.static[*m.instanceID] == id {
		delete(g.static, *m.instanceID)
	}
	for _, p := range m.protocols {
		if g.protocols[p.Name]--; g.protocols[p.Name] == 0 {
			delete(g.protocols, p.Name)
		}
	}
	if m.join != nil {
		g.awaitingJoin--
	}
	if g.leader == id {
		g.leader = ""
		if len(g.order) > 0 {
			g.leader = g.order[0]
		}
	}
	return m
}

// setProtocols replaces a member's protocols, keeping the counts.
func (g *group) setProtocols(m *member, ps []kmsg.JoinGroupRequestProtocol) {
	for _, p := range m.protocols {
		if g.protocols[p.Name]--; g.protocols[p.Name] == 0 {
			delete(g.protocols, p.Name)
		}
	}
	m.protocols = cloneProtocols(ps)
	for _, p := range m.protocols {
		g.protocols[p.Name]++
	}
}

// supports reports whether a member with these protocols may join: into
// an empty group anything named, else the same protocol type and at least
// one protocol every member supports.
func (g *group) supports(protocolType string, ps []kmsg.JoinGroupRequestProtocol) bool {
	if g.state == Empty {
		return protocolType != "" && len(ps) > 0
	}
	if g.protocolType != protocolType {
		return false
	}
	for _, p := range ps {
		if g.protocols[p.Name] == len(g.members) {
			return true
		}
	}
	return false
}

// selectProtocol picks the protocol of the next generation: among those
// every member supports, each member votes for the first it lists; the
// most votes win (ties go to the earlier member's vote).
func (g *group) selectProtocol() string {
	votes := map[string]int{}
	best, bestVotes := "", 0
	for _, id := range g.order {
		for _, p := range g.members[id].protocols {
			if g.protocols[p.Name] != len(g.members) {
				continue
			}
			votes[p.Name]++
			if votes[p.Name] > bestVotes {
				best, bestVotes = p.Name, votes[p.Name]
			}
			break
		}
	}
	return best
}

// hasAllJoined: every member has a parked JoinGroup and no member id
// handed out by MEMBER_ID_REQUIRED is still to come.
func (g *group) hasAllJoined() bool {
	return g.awaitingJoin == len(g.members) && len(g.pending) == 0
}

// rebalanceTimeoutMs is the largest rebalance timeout of the members.
func (g *group) rebalanceTimeoutMs() int32 {
	var t int32
	for _, m := range g.members {
		t = max(t, m.rebalanceTimeoutMs)
	}
	return t
}

// validateMember checks a request's member id and instance id: an
// unknown instance or member is UNKNOWN_MEMBER_ID, an instance id mapped
// to another member id is FENCED_INSTANCE_ID.
func (g *group) validateMember(memberID string, instanceID *string) int16 {
	if instanceID != nil {
		cur, ok := g.static[*instanceID]
		if !ok {
			return codeUnknownMemberID
		}
		if cur != memberID {
			return codeFencedInstanceID
		}
	}
	if g.members[memberID] == nil {
		return codeUnknownMemberID
	}
	return 0
}

// metadataFor is the member's metadata for protocol name.
func (m *member) metadataFor(name string) []byte {
	for _, p := range m.protocols {
		if p.Name == name {
			return p.Metadata
		}
	}
	return nil
}

// sameProtocols reports whether ps is what the member joined with.
func (m *member) sameProtocols(ps []kmsg.JoinGroupRequestProtocol) bool {
	return slices.EqualFunc(m.protocols, ps, func(a, b kmsg.JoinGroupRequestProtocol) bool {
		return a.Name == b.Name && bytes.Equal(a.Metadata, b.Metadata)
	})
}

// hasSatisfiedHeartbeat: a member waiting in JoinGroup or SyncGroup needs
// no heartbeat, except a new one (its join may be abandoned).
func (m *member) hasSatisfiedHeartbeat() bool {
	return !m.isNew && (m.join != nil || m.sync != nil)
}

func cloneProtocols(ps []kmsg.JoinGroupRequestProtocol) []kmsg.JoinGroupRequestProtocol {
	out := make([]kmsg.JoinGroupRequestProtocol, len(ps))
	for i, p := range ps {
		out[i] = kmsg.JoinGroupRequestProtocol{Name: p.Name, Metadata: slices.Clone(p.Metadata)}
	}
	return out
}

// computeSubscribed collects the topics the members subscribe to, when
// the group is a consumer group with a selected protocol whose metadata
// parses (ConsumerProtocol); nil when unknown.
func (g *group) computeSubscribed() map[string]bool {
	if g.protocolType != consumerProtocolType {
		return nil
	}
	topics := map[string]bool{}
	if len(g.members) == 0 {
		return topics
	}
	if g.protocol == "" {
		return nil
	}
	for _, m := range g.members {
		var meta kmsg.ConsumerMemberMetadata
		if err := meta.ReadFrom(m.metadataFor(g.protocol)); err != nil {
			return nil
		}
		for _, t := range meta.Topics {
			topics[t] = true
		}
	}
	return topics
}

// isSubscribed reports whether the group reads topic; when it cannot
// tell, a consumer group is assumed to.
func (g *group) isSubscribed(topic string) bool {
	if g.subscribed == nil {
		return g.protocolType == consumerProtocolType
	}
	return g.subscribed[topic]
}

func (g *group) hasOffsets() bool {
	for _, ps := range g.offsets {
		if len(ps) > 0 {
			return true
		}
	}
	return false
}
