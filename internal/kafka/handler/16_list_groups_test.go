package handler_test

import (
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestListGroups(t *testing.T) {
	a := startAdmin(t)
	a.createTopic(t, "t", 1, nil)
	groupMember(t, a, "live", "t")
	os := kadm.Offsets{}
	os.AddOffset("t", 0, 1, -1)
	if _, err := a.adm.CommitOffsets(admCtx(t), "simple", os); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		v      int16
		states []string
		types  []string
		want   []string
	}{
		{0, nil, nil, []string{"live", "simple"}},
		{4, []string{"stable"}, nil, []string{"live"}},
		{4, []string{"Empty"}, nil, []string{"simple"}},
		{5, nil, []string{"classic"}, []string{"live", "simple"}},
		{5, nil, []string{"consumer"}, nil},
	}
	for _, tt := range tests {
		req := kmsg.NewPtrListGroupsRequest()
		req.StatesFilter, req.TypesFilter = tt.states, tt.types
		resp := a.requestAt(t, tt.v, req).(*kmsg.ListGroupsResponse)
		var got []string
		for _, g := range resp.Groups {
			got = append(got, g.Group)
			if tt.v >= 5 && g.GroupType != "classic" {
				t.Errorf("group %s type %q", g.Group, g.GroupType)
			}
		}
		slices.Sort(got)
		if resp.ErrorCode != 0 || !slices.Equal(got, tt.want) {
			t.Errorf("v%d %v %v: %s %v, want %v", tt.v, tt.states, tt.types, codeName(resp.ErrorCode), got, tt.want)
		}
	}
}
