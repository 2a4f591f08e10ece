package group

import (
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/coord/runtime"
)

func TestDeleteGroup(t *testing.T) {
	h := newHarness(t)
	h.stable("busy", 1)
	h.commit("idle", "", -1, "", 1, 2)
	tests := []struct {
		group string
		want  int16
	}{
		{"busy", codeNonEmptyGroup},
		{"missing", codeGroupIDNotFound},
		{"idle", 0},
		{"idle", codeGroupIDNotFound}, // already gone
	}
	for _, tt := range tests {
		var got int16
		h.run(func(s *shard, w *runtime.Writer) { got = s.deleteGroup(w, tt.group) })
		if got != tt.want {
			t.Errorf("delete %s = %d, want %d", tt.group, got, tt.want)
		}
	}
	h.restart()
	if h.group("idle") != nil || h.group("busy") == nil {
		t.Fatal("deletion not replayed")
	}
}

func TestOffsetDelete(t *testing.T) {
	h := newHarness(t)
	ids := h.stable("g", 1) // subscribes to "t"
	h.commit("g", ids[0], 1, "", 1)
	var other kmsg.OffsetCommitResponseTopicPartition
	p := kmsg.NewOffsetCommitRequestTopicPartition()
	req := kmsg.NewPtrOffsetCommitRequest()
	req.Version, req.Group, req.MemberID, req.Generation = 9, "g", ids[0], 1
	h.run(func(s *shard, w *runtime.Writer) {
		s.commit(w, req, []commitPartition{{topic: "u", part: &p, resp: &other}})
	})
	del := func(group string, topics ...string) *kmsg.OffsetDeleteResponse {
		req := kmsg.NewPtrOffsetDeleteRequest()
		req.Group = group
		for _, tp := range topics {
			rt := kmsg.NewOffsetDeleteRequestTopic()
			rt.Topic = tp
			rt.Partitions = []kmsg.OffsetDeleteRequestTopicPartition{{Partition: 0}}
			req.Topics = append(req.Topics, rt)
		}
		r := kmsg.NewPtrOffsetDeleteResponse()
		h.run(func(s *shard, w *runtime.Writer) { s.offsetDelete(w, req, r) })
		return r
	}
	r := del("g", "t", "u")
	if r.ErrorCode != 0 || r.Topics[0].Partitions[0].ErrorCode != codeGroupSubscribedToTopic || r.Topics[1].Partitions[0].ErrorCode != 0 {
		t.Fatalf("offset delete: %+v", r)
	}
	if h.group("g").offsets["u"] != nil || h.group("g").offsets["t"] == nil {
		t.Fatal("wrong offsets deleted")
	}
	if r := del("missing", "t"); r.ErrorCode != codeGroupIDNotFound {
		t.Fatalf("missing group: %d", r.ErrorCode)
	}
	// A non-consumer group with members cannot tell what it reads.
	j := joinReq{group: "connect"}.build()
	j.ProtocolType, j.Version = "connect", 3 // v3: a member at once
	h.run(func(s *shard, w *runtime.Writer) { s.join(w, j, client{}, func(*kmsg.JoinGroupResponse) {}) })
	if r := del("connect", "t"); r.ErrorCode != codeNonEmptyGroup {
		t.Fatalf("non-consumer group with members: %d", r.ErrorCode)
	}
}

func TestDescribeAndList(t *testing.T) {
	h := newHarness(t)
	ids := h.stable("stable", 2)
	h.commit("simple", "", -1, "", 1)
	h.joinNew(joinReq{group: "joining"})

	var d kmsg.DescribeGroupsResponseGroup
	h.run(func(s *shard, _ *runtime.Writer) { d = s.describe("stable", 5, true) })
	if d.State != "Stable" || d.Protocol != "range" || d.ProtocolType != consumerProtocolType || len(d.Members) != 2 ||
		d.Members[0].MemberID != ids[0] || string(d.Members[0].MemberAssignment) != ids[0] ||
		d.Members[0].ClientHost != "/127.0.0.1" || d.AuthorizedOperations != groupAuthorizedOps {
		t.Fatalf("describe stable: %+v", d)
	}
	h.run(func(s *shard, _ *runtime.Writer) { d = s.describe("joining", 5, false) })
	if d.State != "PreparingRebalance" || d.Protocol != "" || len(d.Members) != 1 || len(d.Members[0].MemberAssignment) != 0 {
		t.Fatalf("describe joining: %+v", d)
	}
	for _, v := range []int16{5, 6} {
		h.run(func(s *shard, _ *runtime.Writer) { d = s.describe("none", v, false) })
		wantCode := int16(0)
		if v >= 6 {
			wantCode = codeGroupIDNotFound
		}
		if d.State != "Dead" || d.ErrorCode != wantCode {
			t.Fatalf("describe missing v%d: %+v", v, d)
		}
	}

	list := func(states []State, types []string) []string {
		var out []kmsg.ListGroupsResponseGroup
		var stateNames []string
		for _, st := range states {
			stateNames = append(stateNames, st.String())
		}
		h.run(func(s *shard, _ *runtime.Writer) { out = s.list(states, stateNames, types, nil) })
		var names []string
		for _, g := range out {
			names = append(names, g.Group+":"+g.GroupState)
		}
		slices.Sort(names)
		return names
	}
	tests := []struct {
		states []State
		types  []string
		want   []string
	}{
		{nil, nil, []string{"joining:PreparingRebalance", "simple:Empty", "stable:Stable"}},
		{[]State{Stable, Empty}, nil, []string{"simple:Empty", "stable:Stable"}},
		{nil, []string{"Classic"}, []string{"joining:PreparingRebalance", "simple:Empty", "stable:Stable"}},
		{nil, []string{"consumer"}, nil},
	}
	for _, tt := range tests {
		if got := list(tt.states, tt.types); !slices.Equal(got, tt.want) {
			t.Errorf("list %v %v = %v, want %v", tt.states, tt.types, got, tt.want)
		}
	}
	if st, ok := parseState("completingrebalance"); !ok || st != CompletingRebalance {
		t.Fatal("state names are matched case-insensitively")
	}
}
