package group

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestConsumerJoinAndSteadyState(t *testing.T) {
	h := newCGHarness(t, map[string]int{"t": 6})
	m := h.member("g", "m1", "t")
	r := m.join()
	if r.MemberEpoch != 1 || m.ownedString() != "t:0,1,2,3,4,5" || r.HeartbeatIntervalMillis != 1000 {
		t.Fatalf("join: epoch %d owns %q interval %d", r.MemberEpoch, m.ownedString(), r.HeartbeatIntervalMillis)
	}
	cg := h.cgroup("g")
	if cg.state() != "Stable" || cg.members["m1"].state != memberStable {
		t.Fatalf("group %s", cg.state())
	}
	batches := len(h.log.Batches())
	for range 3 {
		h.advance(testHeartbeat)
		if r := m.beat(); r.Assignment != nil || r.MemberEpoch != 1 {
			t.Fatalf("steady heartbeat: %+v", r)
		}
	}
	if got := len(h.log.Batches()); got != batches {
		t.Fatalf("steady heartbeats wrote %d batches", got-batches)
	}
}

// A second member joins: the first revokes half of its partitions in
// one heartbeat, and only in a later heartbeat does the second get them.
func TestConsumerIncrementalRebalance(t *testing.T) {
	h := newCGHarness(t, map[string]int{"t": 6})
	m1, m2 := h.member("g", "m1", "t"), h.member("g", "m2", "t")
	m1.join()
	r := m2.join()
	if r.MemberEpoch != 2 || m2.count() != 0 || h.cgroup("g").members["m2"].state != memberUnreleased {
		t.Fatalf("second join: epoch %d owns %q", r.MemberEpoch, m2.ownedString())
	}
	r = m1.beat()
	if r.MemberEpoch != 1 || m1.count() != 3 || h.cgroup("g").members["m1"].state != memberUnrevoked {
		t.Fatalf("revocation: epoch %d owns %q", r.MemberEpoch, m1.ownedString())
	}
	noOverlap(t, m1, m2)
	if m2.beat(); m2.count() != 0 {
		t.Fatalf("m2 got %q before m1 revoked", m2.ownedString())
	}
	if r = m1.beat(); r.MemberEpoch != 2 || m1.count() != 3 {
		t.Fatalf("after revoking: epoch %d owns %q", r.MemberEpoch, m1.ownedString())
	}
	if r = m2.beat(); r.MemberEpoch != 2 || m2.count() != 3 {
		t.Fatalf("m2 after release: epoch %d owns %q", r.MemberEpoch, m2.ownedString())
	}
	noOverlap(t, m1, m2)
	if st := h.cgroup("g").state(); st != "Stable" {
		t.Fatalf("group %s", st)
	}
}

func TestConsumerSessionTimeoutAndLeave(t *testing.T) {
	h := newCGHarness(t, map[string]int{"t": 6})
	m1, m2, m3 := h.member("g", "m1", "t"), h.member("g", "m2", "t"), h.member("g", "m3", "t")
	settle(t, m1, m2, m3)
	// m1 goes silent; m2 and m3 keep heartbeating.
	for range 12 {
		h.advance(testHeartbeat)
		m2.beat()
		m3.beat()
	}
	if h.cgroup("g").members["m1"] != nil {
		t.Fatal("silent member not fenced after its session timeout")
	}
	settle(t, m2, m3)
	if m2.count()+m3.count() != 6 || m2.count() != 3 {
		t.Fatalf("after timeout: m2 %q m3 %q", m2.ownedString(), m3.ownedString())
	}
	if r := m3.leave(false); r.ErrorCode != 0 || r.MemberEpoch != leaveEpoch {
		t.Fatalf("leave: %+v", r)
	}
	settle(t, m2)
	if m2.count() != 6 {
		t.Fatalf("after leave m2 owns %q", m2.ownedString())
	}
	if r := h.hb(m3.beatReq()); r.ErrorCode != codeUnknownMemberID {
		t.Fatalf("heartbeat after leaving: %d", r.ErrorCode)
	}
	if r := m3.leave(false); r.ErrorCode != codeUnknownMemberID {
		t.Fatalf("second leave: %d", r.ErrorCode)
	}
}

// settle heartbeats the members until none changes.
func settle(t *testing.T, ms ...*sim) {
	t.Helper()
	for _, m := range ms {
		if m.epoch == 0 {
			m.join()
		}
	}
	for range 10 {
		changed := false
		for _, m := range ms {
			before, epoch := m.ownedString(), m.epoch
			m.beat()
			noOverlap(t, ms...)
			changed = changed || before != m.ownedString() || epoch != m.epoch
		}
		if !changed {
			return
		}
	}
	t.Fatal("members do not settle")
}

func TestConsumerStaticMembership(t *testing.T) {
	h := newCGHarness(t, map[string]int{"t": 4})
	s1, s2 := h.member("g", "a1", "t"), h.member("g", "b1", "t")
	s1.instance, s2.instance = ptr("ia"), ptr("ib")
	settle(t, s1, s2)
	owned, epoch := s1.ownedString(), h.cgroup("g").epoch
	if r := s1.leave(true); r.ErrorCode != 0 || r.MemberEpoch != staticLeaveEpoch {
		t.Fatalf("static leave: %+v", r)
	}
	if m := h.cgroup("g").members["a1"]; m == nil || m.epoch != staticLeaveEpoch || m.assigned.count() != 2 {
		t.Fatalf("a static member that left keeps its assignment: %+v", m)
	}
	// Its partitions are not given away meanwhile.
	settle(t, s2)
	if s2.count() != 2 {
		t.Fatalf("partitions of a static member that left went to %q", s2.ownedString())
	}
	// Another process with a fresh member id rejoins as the instance.
	s1b := h.member("g", "a2", "t")
	s1b.instance = ptr("ia")
	s1b.join()
	if s1b.ownedString() != owned || h.cgroup("g").epoch != epoch {
		t.Fatalf("rejoin: owns %q (had %q), group epoch %d (was %d)", s1b.ownedString(), owned, h.cgroup("g").epoch, epoch)
	}
	if h.cgroup("g").members["a1"] != nil || h.cgroup("g").static["ia"] != "a2" {
		t.Fatal("the old member of the instance is still there")
	}
	// The instance is held: a third process cannot take it.
	s1c := h.member("g", "a3", "t")
	s1c.instance = ptr("ia")
	if r := h.hb(s1c.joinReq()); r.ErrorCode != codeUnreleasedInstanceID {
		t.Fatalf("join with a held instance: %d", r.ErrorCode)
	}
	// A heartbeat of the replaced member id is fenced.
	req := s1.beatReq()
	req.InstanceID = ptr("ia")
	if r := h.hb(req); r.ErrorCode != codeFencedInstanceID {
		t.Fatalf("heartbeat of the old member id: %d", r.ErrorCode)
	}
}

func TestConsumerFencedEpochs(t *testing.T) {
	h := newCGHarness(t, map[string]int{"t": 2})
	m1, m2, m3 := h.member("g", "m1", "t"), h.member("g", "m2", "t"), h.member("g", "m3", "t")
	settle(t, m1, m2)
	settle(t, m1, m2, m3)
	cur := h.cgroup("g").members["m1"]
	if cur.prevEpoch < 2 {
		t.Fatalf("epochs %d/%d: want a previous epoch above 1", cur.epoch, cur.prevEpoch)
	}
	tests := []struct {
		name  string
		epoch int32
		owned bool
		want  int16
	}{
		{"greater", cur.epoch + 1, true, codeFencedMemberEpoch},
		{"older than previous", cur.prevEpoch - 1, true, codeFencedMemberEpoch},
		{"previous without owned", cur.prevEpoch, false, codeFencedMemberEpoch},
		{"previous owning a subset", cur.prevEpoch, true, 0},
		{"current", cur.epoch, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := m1.beatReq()
			req.MemberEpoch = tt.epoch
			if !tt.owned {
				req.Topics = nil
			}
			if r := h.hb(req); r.ErrorCode != tt.want {
				t.Fatalf("code %d, want %d", r.ErrorCode, tt.want)
			}
		})
	}
	unknown := h.member("g", "nobody", "t")
	unknown.epoch = 3
	if r := h.hb(unknown.beatReq()); r.ErrorCode != codeUnknownMemberID {
		t.Fatalf("unknown member: %d", r.ErrorCode)
	}
	gone := h.member("missing", "m", "t")
	gone.epoch = 3
	if r := h.hb(gone.beatReq()); r.ErrorCode != codeUnknownMemberID {
		t.Fatalf("unknown group: %d", r.ErrorCode)
	}
}

// A member that must revoke but does not is fenced after its rebalance
// timeout, and its partitions move on.
func TestConsumerRebalanceTimeout(t *testing.T) {
	h := newCGHarness(t, map[string]int{"t": 4})
	m1, m2 := h.member("g", "m1", "t"), h.member("g", "m2", "t")
	m1.join()
	m1.silent = true // keeps processing, never reports its revocation
	m2.join()
	m1.beat()
	if h.cgroup("g").members["m1"].state != memberUnrevoked {
		t.Fatal("m1 should be revoking")
	}
	for range 6 { // rebalance timeout 5 s < session 10 s
		h.advance(testHeartbeat)
		h.hb(m1.beatReq())
		m2.beat()
	}
	if h.cgroup("g").members["m1"] != nil {
		t.Fatal("member that did not revoke is still in the group")
	}
	if r := h.hb(m1.beatReq()); r.ErrorCode != codeUnknownMemberID {
		t.Fatalf("fenced member heartbeat: %d", r.ErrorCode)
	}
	settle(t, m2)
	if m2.count() != 4 {
		t.Fatalf("m2 owns %q", m2.ownedString())
	}
}

// New partitions change the subscription metadata: the group epoch bumps
// and the members get them.
func TestConsumerNewPartitionsReassign(t *testing.T) {
	h := newCGHarness(t, map[string]int{"t": 2, "u": 1})
	m1, m2 := h.member("g", "m1", "t"), h.member("g", "m2", "t")
	settle(t, m1, m2)
	epoch := h.cgroup("g").epoch
	h.setTopics(map[string]int{"t": 6, "u": 3})
	settle(t, m1, m2)
	if h.cgroup("g").epoch != epoch+1 || m1.count() != 3 || m2.count() != 3 {
		t.Fatalf("epoch %d->%d m1 %q m2 %q", epoch, h.cgroup("g").epoch, m1.ownedString(), m2.ownedString())
	}
}

func TestConsumerRegexSubscription(t *testing.T) {
	h := newCGHarness(t, map[string]int{"orders-eu": 2, "orders-us": 2, "users": 2})
	m := h.member("g", "m1")
	m.regex = ptr("orders-.*")
	settle(t, m)
	if m.ownedString() != "orders-eu:0,1 orders-us:0,1" {
		t.Fatalf("regex owns %q", m.ownedString())
	}
	h.setTopics(map[string]int{"orders-eu": 2, "orders-us": 2, "users": 2, "orders-asia": 1})
	settle(t, m)
	if m.count() != 5 {
		t.Fatalf("after a matching topic appeared: %q", m.ownedString())
	}
	bad := h.member("g", "m2")
	bad.regex = ptr("orders-(")
	if r := h.hb(bad.joinReq()); r.ErrorCode != codeInvalidRegularExpression {
		t.Fatalf("bad regex: %d", r.ErrorCode)
	}
}

func TestConsumerGroupMaxSize(t *testing.T) {
	h := newCGHarness(t, map[string]int{"t": 2}, func(o *Options) { o.ConsumerMaxGroupSize = 1 })
	h.member("g", "m1", "t").join()
	if r := h.hb(h.member("g", "m2", "t").joinReq()); r.ErrorCode != codeGroupMaxSizeReached {
		t.Fatalf("join beyond group.consumer.max.size: %d", r.ErrorCode)
	}
}

func TestConsumerHeartbeatValidation(t *testing.T) {
	join := func(mod func(*kmsg.ConsumerGroupHeartbeatRequest)) *kmsg.ConsumerGroupHeartbeatRequest {
		h := &cgHarness{}
		req := (&sim{h: h, group: "g", id: "m", topics: []string{"t"}}).joinReq()
		mod(req)
		return req
	}
	tests := []struct {
		name string
		req  *kmsg.ConsumerGroupHeartbeatRequest
		want int16
	}{
		{"ok", join(func(*kmsg.ConsumerGroupHeartbeatRequest) {}), 0},
		{"no group", join(func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.Group = "" }), codeInvalidRequest},
		{"v1 without member id", join(func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.MemberID = "" }), codeInvalidRequest},
		{"v0 join without member id", join(func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.MemberID, r.Version = "", 0 }), 0},
		{"no rebalance timeout", join(func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.RebalanceTimeoutMillis = -1 }), codeInvalidRequest},
		{"owned on join", join(func(r *kmsg.ConsumerGroupHeartbeatRequest) {
			r.Topics = []kmsg.ConsumerGroupHeartbeatRequestTopic{{Partitions: []int32{0}}}
		}), codeInvalidRequest},
		{"no subscription", join(func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.SubscribedTopicNames = nil }), codeInvalidRequest},
		{"bad epoch", join(func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.MemberEpoch = -3 }), codeInvalidRequest},
		{"static leave without instance", join(func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.MemberEpoch = -2 }), codeInvalidRequest},
		{"empty instance", join(func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.InstanceID = ptr("") }), codeInvalidRequest},
		{"unknown assignor", join(func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.ServerAssignor = ptr("sticky") }), codeUnsupportedAssignor},
		{"range", join(func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.ServerAssignor = ptr("range") }), 0},
		{"bad regex", join(func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.SubscribedTopicRegex = ptr("[") }), codeInvalidRegularExpression},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := int16(0)
			if e := validateConsumerHeartbeat(tt.req, []string{"uniform", "range"}); e != nil {
				got = e.code
			}
			if got != tt.want {
				t.Fatalf("code %d, want %d", got, tt.want)
			}
		})
	}
}

// A v0 join without a member id gets one from the coordinator.
func TestConsumerV0MemberID(t *testing.T) {
	h := newCGHarness(t, map[string]int{"t": 1})
	req := h.member("g", "", "t").joinReq()
	req.Version = 0
	r := h.hb(req)
	if r.ErrorCode != 0 || r.MemberID == nil || len(*r.MemberID) != 22 {
		t.Fatalf("v0 join: %+v", r)
	}
}
