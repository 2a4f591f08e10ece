package group

import (
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/coord/runtime"
)

func TestOffsetCommitValidation(t *testing.T) {
	h := newHarness(t)
	ids := h.stable("members", 1)
	tests := []struct {
		name   string
		group  string
		member string
		gen    int32
		meta   string
		want   int16
	}{
		{"simple consumer, new group", "simple", "", -1, "", 0},
		{"generation for a missing group", "missing", "m", 3, "", codeIllegalGeneration},
		{"metadata at the limit", "simple", "", -1, strings.Repeat("x", 4096), 0},
		{"metadata too large", "simple", "", -1, strings.Repeat("x", 4097), codeOffsetMetadataTooLarge},
		{"member, right generation", "members", ids[0], 1, "", 0},
		{"member, old generation", "members", ids[0], 0, "", codeIllegalGeneration},
		{"unknown member", "members", "ghost", 1, "", codeUnknownMemberID},
		{"simple commit to a group with members", "members", "", -1, "", codeUnknownMemberID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := h.commit(tt.group, tt.member, tt.gen, tt.meta, 10, 20); got[0] != tt.want || got[1] != tt.want {
				t.Fatalf("codes %v, want %d", got, tt.want)
			}
		})
	}
	if got := h.fetch("simple"); !maps.Equal(got, map[int32]int64{0: 10, 1: 20}) {
		t.Fatalf("fetch simple = %v", got)
	}
}

func TestOffsetCommitDuringCompletingRebalance(t *testing.T) {
	h := newHarness(t)
	ch, id := h.joinNew(joinReq{group: "g"})
	h.advance(0)
	mustAnswer(t, ch)
	if got := h.commit("g", id, 1, "", 1); got[0] != codeRebalanceInProgress {
		t.Fatalf("commit in CompletingRebalance = %d", got[0])
	}
}

func TestOffsetFetch(t *testing.T) {
	h := newHarness(t)
	h.commit("g", "", -1, "meta", 7)
	var got []fetchedOffset
	h.run(func(s *shard, w *runtime.Writer) {
		got = s.fetch("g", []fetchTopic{{topic: "t", partitions: []int32{0, 1}}, {topic: "u", partitions: []int32{0}}})
	})
	want := []fetchedOffset{
		{topic: "t", partition: 0, offset: 7, epoch: 3, metadata: "meta"},
		{topic: "t", partition: 1, offset: -1, epoch: -1},
		{topic: "u", partition: 0, offset: -1, epoch: -1},
	}
	if len(got) != len(want) {
		t.Fatalf("fetch = %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("fetch[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
	h.run(func(s *shard, w *runtime.Writer) { got = s.fetch("none", nil) })
	if len(got) != 0 {
		t.Fatalf("fetch all of a missing group = %+v", got)
	}
}

func TestReplayRebuildsGroupsAndOffsets(t *testing.T) {
	h := newHarness(t)
	ids := h.stable("g", 2)
	h.commit("g", ids[0], 1, "m", 1, 2, 3)
	h.commit("g", ids[1], 1, "m", 4) // partition 0 again: the later commit wins
	h.commit("simple", "", -1, "", 9)
	h.join(joinReq{group: "fresh", instance: ptr("i")}) // a new group is persisted at once
	before := h.group("g")

	h.restart()
	g := h.group("g")
	if g == nil || g.state != Stable || g.generation != before.generation || g.leader != before.leader ||
		g.protocol != "range" || g.protocolType != consumerProtocolType || len(g.members) != 2 {
		t.Fatalf("replayed group: %+v", g)
	}
	for _, id := range ids {
		if m := g.members[id]; m == nil || string(m.assignment) != id || m.sessionTimeoutMs != 10_000 {
			t.Fatalf("replayed member %s: %+v", id, m)
		}
	}
	if !g.subscribed["t"] {
		t.Fatalf("subscriptions not rebuilt: %v", g.subscribed)
	}
	if got := h.fetch("g"); !maps.Equal(got, map[int32]int64{0: 4, 1: 2, 2: 3}) {
		t.Fatalf("offsets of g = %v", got)
	}
	if got := h.fetch("simple"); !maps.Equal(got, map[int32]int64{0: 9}) {
		t.Fatalf("offsets of simple = %v", got)
	}
	if h.group("fresh") == nil {
		t.Fatal("new group not persisted")
	}
	// The loaded members are alive until their session timeout.
	if code := h.heartbeat("g", ids[0], 1, nil); code != 0 {
		t.Fatalf("heartbeat after restart: %d", code)
	}
	h.advance(11 * time.Second) // nobody heartbeats: everyone expires
	if st := h.group("g").state; st != Empty {
		t.Fatalf("after sessions expired: %v", st)
	}
	h.restart()
	if g := h.group("g"); g.state != Empty || g.generation != before.generation+1 {
		t.Fatalf("empty group replayed as %v gen %d", g.state, g.generation)
	}
}

func TestOffsetExpiration(t *testing.T) {
	h := newHarness(t, func(o *Options) {
		o.OffsetsRetention = time.Hour
		o.OffsetsRetentionCheckInterval = time.Minute
	})
	ids := h.stable("consumers", 1)
	h.commit("consumers", ids[0], 1, "", 1)
	h.leave("consumers", kmsg.LeaveGroupRequestMember{MemberID: ids[0]}) // empty from now
	h.commit("simple", "", -1, "", 1)
	h.advance(30 * time.Minute)
	h.commit("simple", "", -1, "", 2) // a fresh commit restarts retention
	h.advance(29 * time.Minute)
	if h.fetch("simple")[0] != 2 || h.fetch("consumers")[0] != 1 {
		t.Fatal("offsets expired early")
	}
	h.advance(2 * time.Minute)
	if len(h.fetch("consumers")) != 0 {
		t.Fatal("offsets of a group empty for the retention not expired")
	}
	if h.group("consumers") != nil {
		t.Fatal("empty group without offsets not deleted")
	}
	if h.fetch("simple")[0] != 2 {
		t.Fatal("simple offset committed 31 minutes ago expired")
	}
	h.advance(30 * time.Minute)
	if h.group("simple") != nil {
		t.Fatal("simple consumer group kept after its offsets expired")
	}
	h.restart()
	if len(h.m.groups) != 0 {
		t.Fatalf("groups after replay of the expirations: %v", maps.Keys(h.m.groups))
	}
}

func TestStableGroupKeepsSubscribedOffsets(t *testing.T) {
	h := newHarness(t, func(o *Options) {
		o.OffsetsRetention = time.Minute
		o.OffsetsRetentionCheckInterval = time.Minute
	})
	ids := h.stable("g", 1) // subscribes to "t"
	h.commit("g", ids[0], 1, "", 5)
	req := kmsg.NewPtrOffsetCommitRequest()
	req.Version, req.Group, req.MemberID, req.Generation = 9, "g", ids[0], 1
	p := kmsg.NewOffsetCommitRequestTopicPartition()
	var resp kmsg.OffsetCommitResponseTopicPartition
	h.run(func(s *shard, w *runtime.Writer) {
		s.commit(w, req, []commitPartition{{topic: "old", part: &p, resp: &resp}})
	})
	for range 36 { // three minutes of heartbeats
		h.advance(5 * time.Second)
		h.heartbeat("g", ids[0], 1, nil)
	}
	if h.group("g").offsets["t"] == nil || h.group("g").offsets["old"] != nil {
		t.Fatalf("offsets after expiry in a stable group: %v", maps.Keys(h.group("g").offsets))
	}
}
