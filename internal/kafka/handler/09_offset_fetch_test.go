package handler_test

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestOffsetFetchGroups fetches several groups in one v8 request, all
// partitions (null topics) and named ones, including a group that does
// not exist.
func TestOffsetFetchGroups(t *testing.T) {
	a := startAdmin(t)
	a.createTopic(t, "t", 3, nil)
	for _, g := range []string{"a", "b"} {
		os := kadm.Offsets{}
		os.AddOffset("t", 0, 10, -1)
		os.AddOffset("t", 2, 30, -1)
		if _, err := a.adm.CommitOffsets(admCtx(t), g, os); err != nil {
			t.Fatalf("commit %s: %v", g, err)
		}
	}
	req := kmsg.NewPtrOffsetFetchRequest()
	ga := kmsg.NewOffsetFetchRequestGroup()
	ga.Group = "a" // null topics: everything committed
	gb := kmsg.NewOffsetFetchRequestGroup()
	gb.Group = "b"
	gb.Topics = []kmsg.OffsetFetchRequestGroupTopic{{Topic: "t", Partitions: []int32{0, 1}}}
	gn := kmsg.NewOffsetFetchRequestGroup()
	gn.Group = "none"
	req.Groups = []kmsg.OffsetFetchRequestGroup{ga, gb, gn}
	req.RequireStable = true
	resp := a.requestAt(t, 9, req).(*kmsg.OffsetFetchResponse)
	if len(resp.Groups) != 3 {
		t.Fatalf("%d groups", len(resp.Groups))
	}
	type po struct {
		p int32
		o int64
	}
	got := func(g kmsg.OffsetFetchResponseGroup) []po {
		var out []po
		for _, tp := range g.Topics {
			for _, p := range tp.Partitions {
				out = append(out, po{p.Partition, p.Offset})
			}
		}
		return out
	}
	want := [][]po{{{0, 10}, {2, 30}}, {{0, 10}, {1, -1}}, nil}
	for i, g := range resp.Groups {
		if g.ErrorCode != 0 || len(got(g)) != len(want[i]) {
			t.Fatalf("group %s: %+v", g.Group, g)
		}
		for j, w := range want[i] {
			if got(g)[j] != w {
				t.Errorf("group %s: %v, want %v", g.Group, got(g), want[i])
			}
		}
	}
}
