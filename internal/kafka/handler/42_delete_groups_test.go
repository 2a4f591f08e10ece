package handler_test

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestDeleteGroups(t *testing.T) {
	a := startAdmin(t)
	a.createTopic(t, "t", 1, nil)
	member := groupMember(t, a, "live", "t")
	os := kadm.Offsets{}
	os.AddOffset("t", 0, 1, -1)
	if _, err := a.adm.CommitOffsets(admCtx(t), "idle", os); err != nil {
		t.Fatal(err)
	}
	req := kmsg.NewPtrDeleteGroupsRequest()
	req.Groups = []string{"live", "idle", "missing"}
	resp := a.requestAt(t, 2, req).(*kmsg.DeleteGroupsResponse)
	want := []string{"NON_EMPTY_GROUP", "OK", "GROUP_ID_NOT_FOUND"}
	for i, g := range resp.Groups {
		if g.Group != req.Groups[i] || codeName(g.ErrorCode) != want[i] {
			t.Errorf("delete %s: %s, want %s", g.Group, codeName(g.ErrorCode), want[i])
		}
	}
	if fetched, err := a.adm.FetchOffsets(admCtx(t), "idle"); err != nil || len(fetched) != 0 {
		t.Fatalf("offsets of a deleted group: %v %v", fetched, err)
	}
	member.Close() // leaves: the group is empty and may go
	req.Groups = []string{"live"}
	if r := a.requestAt(t, 3, req).(*kmsg.DeleteGroupsResponse); r.Groups[0].ErrorCode != 0 {
		t.Fatalf("delete after the member left: %s", codeName(r.Groups[0].ErrorCode))
	}
}
