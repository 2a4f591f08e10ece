package group

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/coord/runtime"
	"github.com/sluice-io/sluice/internal/metadata"
	"github.com/sluice-io/sluice/internal/model"
)

// cgHarness is a shard harness with a metadata image the test changes.
type cgHarness struct {
	*harness
	im *metadata.Image
}

// Test timings: heartbeats every second, sessions of 10 s.
const (
	testHeartbeat = time.Second
	testSession   = 10 * time.Second
)

func newCGHarness(t *testing.T, topics map[string]int, mods ...func(*Options)) *cgHarness {
	t.Helper()
	ch := &cgHarness{im: testImage(topics)}
	mods = append([]func(*Options){func(o *Options) {
		o.ConsumerHeartbeatInterval, o.ConsumerSessionTimeout = testHeartbeat, testSession
		o.metadataImage = func() *metadata.Image { return ch.im }
	}}, mods...)
	ch.harness = newHarness(t, mods...)
	return ch
}

// topicID is a test topic's id: its name, padded.
func topicID(name string) model.TopicID {
	var id model.TopicID
	copy(id[:], name)
	id[15] = 1
	return id
}

// testImage is an image holding topics with these partition counts.
func testImage(topics map[string]int) *metadata.Image {
	im := metadata.Empty()
	for name, n := range topics {
		t := &metadata.Topic{Name: name, ID: topicID(name), Partitions: make([]metadata.Partition, n)}
		im.Topics[name], im.TopicIDs[t.ID] = t, t
	}
	return im
}

// setTopics swaps in a new image.
func (h *cgHarness) setTopics(topics map[string]int) { h.im = testImage(topics) }

// hb sends a heartbeat as the Coordinator does: validated, then run.
func (h *cgHarness) hb(req *kmsg.ConsumerGroupHeartbeatRequest) *kmsg.ConsumerGroupHeartbeatResponse {
	h.t.Helper()
	if e := validateConsumerHeartbeat(req, h.opts.ConsumerAssignors); e != nil {
		return heartbeatError(e)
	}
	var r *kmsg.ConsumerGroupHeartbeatResponse
	h.run(func(s *shard, w *runtime.Writer) {
		r = s.consumerHeartbeat(w, req, client{id: "cl", host: "/127.0.0.1"})
	})
	return r
}

func (h *cgHarness) cgroup(id string) *consumerGroup {
	h.t.Helper()
	g := h.group(id)
	if g == nil || g.consumer == nil {
		h.t.Fatalf("group %q is not a consumer group", id)
	}
	return g.consumer
}

// sim is a well-behaved member: it adopts each assignment it gets at
// once (revoking what it lost) and reports what it owns.
type sim struct {
	h        *cgHarness
	group    string
	id       string
	instance *string
	topics   []string
	regex    *string
	epoch    int32
	owned    map[string][]int32 // topic -> partitions
	silent   bool               // heartbeats without reporting owned partitions
}

func (h *cgHarness) member(group, id string, topics ...string) *sim {
	return &sim{h: h, group: group, id: id, topics: topics, owned: map[string][]int32{}}
}

// joinReq is the full request of a (re)join.
func (m *sim) joinReq() *kmsg.ConsumerGroupHeartbeatRequest {
	req := kmsg.NewPtrConsumerGroupHeartbeatRequest()
	req.Version = 1
	req.Group, req.MemberID, req.MemberEpoch, req.InstanceID = m.group, m.id, 0, m.instance
	req.RebalanceTimeoutMillis = 5000
	req.SubscribedTopicNames, req.SubscribedTopicRegex = m.topics, m.regex
	if m.topics == nil && m.regex == nil {
		req.SubscribedTopicNames = []string{}
	}
	req.Topics = []kmsg.ConsumerGroupHeartbeatRequestTopic{}
	return req
}

// join joins and adopts the answer; it fails the test on an error.
func (m *sim) join() *kmsg.ConsumerGroupHeartbeatResponse {
	m.h.t.Helper()
	m.owned = map[string][]int32{}
	return m.must(m.h.hb(m.joinReq()))
}

// beatReq is a heartbeat reporting what the member owns.
func (m *sim) beatReq() *kmsg.ConsumerGroupHeartbeatRequest {
	req := kmsg.NewPtrConsumerGroupHeartbeatRequest()
	req.Version = 1
	req.Group, req.MemberID, req.MemberEpoch = m.group, m.id, m.epoch
	if !m.silent {
		req.Topics = []kmsg.ConsumerGroupHeartbeatRequestTopic{}
		for _, name := range slices.Sorted(maps.Keys(m.owned)) {
			t := kmsg.NewConsumerGroupHeartbeatRequestTopic()
			t.TopicID, t.Partitions = topicID(name), m.owned[name]
			req.Topics = append(req.Topics, t)
		}
	}
	return req
}

// beat heartbeats and adopts the answer; it fails the test on an error.
func (m *sim) beat() *kmsg.ConsumerGroupHeartbeatResponse {
	m.h.t.Helper()
	return m.must(m.h.hb(m.beatReq()))
}

func (m *sim) must(r *kmsg.ConsumerGroupHeartbeatResponse) *kmsg.ConsumerGroupHeartbeatResponse {
	m.h.t.Helper()
	if r.ErrorCode != 0 {
		m.h.t.Fatalf("member %s: heartbeat error %d: %v", m.id, r.ErrorCode, deref(r.ErrorMessage))
	}
	m.epoch = r.MemberEpoch
	if r.Assignment != nil {
		m.owned = map[string][]int32{}
		for _, t := range r.Assignment.Topics {
			m.owned[m.h.im.TopicIDs[model.TopicID(t.TopicID)].Name] = t.Partitions
		}
	}
	return r
}

// leave sends epoch -1 (-2 for a static member when static is set).
func (m *sim) leave(static bool) *kmsg.ConsumerGroupHeartbeatResponse {
	req := kmsg.NewPtrConsumerGroupHeartbeatRequest()
	req.Version = 1
	req.Group, req.MemberID, req.MemberEpoch, req.InstanceID = m.group, m.id, leaveEpoch, m.instance
	if static {
		req.MemberEpoch = staticLeaveEpoch
	}
	return m.h.hb(req)
}

// ownedString renders what a member owns, e.g. "t:0,1,2".
func (m *sim) ownedString() string {
	var out []string
	for _, name := range slices.Sorted(maps.Keys(m.owned)) {
		var ps []string
		for _, p := range m.owned[name] {
			ps = append(ps, fmt.Sprint(p))
		}
		out = append(out, name+":"+strings.Join(ps, ","))
	}
	return strings.Join(out, " ")
}

// count is how many partitions a member owns.
func (m *sim) count() int {
	n := 0
	for _, ps := range m.owned {
		n += len(ps)
	}
	return n
}

// noOverlap fails when two members own the same partition.
func noOverlap(t *testing.T, ms ...*sim) {
	t.Helper()
	seen := map[string]string{}
	for _, m := range ms {
		for topic, ps := range m.owned {
			for _, p := range ps {
				k := fmt.Sprintf("%s-%d", topic, p)
				if o, ok := seen[k]; ok {
					t.Fatalf("%s owned by %s and %s", k, o, m.id)
				}
				seen[k] = m.id
			}
		}
	}
}

// snapshot renders a consumer group's persistent state, to compare a
// live shard with a reloaded one.
func snapshot(cg *consumerGroup) string {
	var b strings.Builder
	fmt.Fprintf(&b, "epoch=%d assignment=%d hash=%d\n", cg.epoch, cg.assignmentEpoch, cg.metadataHash)
	for _, name := range slices.Sorted(maps.Keys(cg.subscription)) {
		fmt.Fprintf(&b, "sub %+v\n", cg.subscription[name])
	}
	for _, id := range slices.Sorted(maps.Keys(cg.members)) {
		m := cg.members[id]
		fmt.Fprintf(&b, "member %s inst=%v topics=%v regex=%q rto=%d assignor=%q epoch=%d/%d state=%d assigned=%v revoking=%v target=%v\n",
			id, deref(m.instanceID), m.topics, m.regex, m.rebalanceTimeoutMs, m.assignor, m.epoch, m.prevEpoch, m.state,
			m.assigned, m.revoking, cg.target[id])
	}
	for _, inst := range slices.Sorted(maps.Keys(cg.static)) {
		fmt.Fprintf(&b, "static %s=%s\n", inst, cg.static[inst])
	}
	return b.String()
}
