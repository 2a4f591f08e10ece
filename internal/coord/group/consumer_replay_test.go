package group

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// A shard reloaded from its log has exactly the consumer group state the
// live shard had, mid-rebalance included, and the members carry on
// without a new group epoch.
func TestConsumerReplayRestoresState(t *testing.T) {
	h := newCGHarness(t, map[string]int{"t": 6, "orders-a": 2, "orders-b": 2})
	m1, m2 := h.member("g", "m1", "t"), h.member("g", "m2", "t", "orders-a")
	s1 := h.member("g", "s1", "t")
	s1.instance = ptr("inst")
	rx := h.member("g", "rx")
	rx.regex = ptr("orders-.*")
	settle(t, m1, m2, s1, rx)
	m3 := h.member("g", "m3", "t")
	m3.join() // m1, m2, s1 now have partitions to revoke
	m1.beat() // m1 revoking
	s1.leave(true)
	h.member("other", "x", "t").join()

	before := map[string]string{"g": snapshot(h.cgroup("g")), "other": snapshot(h.cgroup("other"))}
	if h.cgroup("g").members["m1"].state != memberUnrevoked {
		t.Fatal("scenario: m1 should be revoking")
	}
	h.restart()
	for id, want := range before {
		if got := snapshot(h.cgroup(id)); got != want {
			t.Fatalf("group %s after reload:\n%s\nwant:\n%s", id, got, want)
		}
	}
	epoch := h.cgroup("g").epoch
	s1b := h.member("g", "s1b", "t")
	s1b.instance = ptr("inst")
	s1b.join()
	settle(t, m1, m2, m3, s1b, rx)
	if h.cgroup("g").epoch != epoch || h.cgroup("g").state() != "Stable" {
		t.Fatalf("after reload: epoch %d (was %d), %s", h.cgroup("g").epoch, epoch, h.cgroup("g").state())
	}
	// 10 partitions, 5 members: 2 each.
	if m1.count() != 2 || m2.count() != 2 || m3.count() != 2 || s1b.count() != 2 || rx.count() != 2 {
		t.Fatalf("partitions after reload: m1 %q m2 %q m3 %q s1 %q rx %q",
			m1.ownedString(), m2.ownedString(), m3.ownedString(), s1b.ownedString(), rx.ownedString())
	}
}

// Timers come back with a reload: a member that stays silent after it
// is fenced when its session times out.
func TestConsumerReplayRearmsSessions(t *testing.T) {
	h := newCGHarness(t, map[string]int{"t": 2})
	m1, m2 := h.member("g", "m1", "t"), h.member("g", "m2", "t")
	settle(t, m1, m2)
	h.restart()
	for range 11 {
		h.advance(testHeartbeat)
		m2.beat()
	}
	if h.cgroup("g").members["m1"] != nil {
		t.Fatal("silent member survived its session after a reload")
	}
	settle(t, m2)
	if m2.count() != 2 {
		t.Fatalf("m2 owns %q", m2.ownedString())
	}
}

// Groups and offsets move between the classic and the consumer protocol
// as Kafka 4 moves them: empty groups convert, groups with members do
// not; offsets stay.
func TestConsumerClassicConversion(t *testing.T) {
	h := newCGHarness(t, map[string]int{"t": 3})
	ids := h.stable("g", 1)
	h.commit("g", ids[0], 1, "", 5, 6, 7)
	if r := h.hb(h.member("g", "c1", "t").joinReq()); r.ErrorCode != codeGroupIDNotFound {
		t.Fatalf("consumer join to a classic group with members: %d", r.ErrorCode)
	}
	h.leave("g", kmsg.LeaveGroupRequestMember{MemberID: ids[0]})
	if h.group("g").state != Empty {
		t.Fatal("classic group should be empty")
	}
	c1 := h.member("g", "c1", "t")
	c1.join()
	if h.group("g").consumer == nil || len(h.fetch("g")) != 3 {
		t.Fatalf("empty classic group not converted with its offsets: %v", h.fetch("g"))
	}
	ch := h.join(joinReq{group: "g"})
	if r := mustAnswer(t, ch); r.ErrorCode != codeInconsistentProtocol {
		t.Fatalf("classic join to a consumer group with members: %d", r.ErrorCode)
	}
	c1.leave(false)
	ch, _ = h.joinNew(joinReq{group: "g"})
	h.advance(0)
	if r := mustAnswer(t, ch); r.ErrorCode != 0 || h.group("g").consumer != nil {
		t.Fatalf("classic join to an empty consumer group: %d", r.ErrorCode)
	}
	if got := h.fetch("g"); got[0] != 5 || got[2] != 7 {
		t.Fatalf("offsets after converting back: %v", got)
	}
	h.restart()
	if g := h.group("g"); g == nil || g.consumer != nil || len(h.fetch("g")) != 3 {
		t.Fatal("conversions do not replay")
	}
}
