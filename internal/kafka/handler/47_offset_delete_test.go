package handler_test

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestOffsetDelete(t *testing.T) {
	a := startAdmin(t)
	a.createTopic(t, "t", 1, nil)
	a.createTopic(t, "u", 1, nil)
	os := kadm.Offsets{}
	os.AddOffset("u", 0, 5, -1)
	os.AddOffset("t", 0, 5, -1)
	if _, err := a.adm.CommitOffsets(admCtx(t), "g", os); err != nil { // while it has no members
		t.Fatal(err)
	}
	groupMember(t, a, "g", "t") // subscribes to t only
	req := kmsg.NewPtrOffsetDeleteRequest()
	req.Group = "g"
	for _, tp := range []string{"t", "u", "nope"} {
		rt := kmsg.NewOffsetDeleteRequestTopic()
		rt.Topic = tp
		rt.Partitions = []kmsg.OffsetDeleteRequestTopicPartition{{Partition: 0}}
		req.Topics = append(req.Topics, rt)
	}
	resp := a.requestAt(t, 0, req).(*kmsg.OffsetDeleteResponse)
	got := map[string]string{}
	for _, rt := range resp.Topics {
		got[rt.Topic] = codeName(rt.Partitions[0].ErrorCode)
	}
	want := map[string]string{"t": "GROUP_SUBSCRIBED_TO_TOPIC", "u": "OK", "nope": "UNKNOWN_TOPIC_OR_PARTITION"}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("topic %s: %s, want %s", k, got[k], w)
		}
	}
	req.Group = "missing"
	if r := a.requestAt(t, 0, req).(*kmsg.OffsetDeleteResponse); codeName(r.ErrorCode) != "GROUP_ID_NOT_FOUND" {
		t.Fatalf("missing group: %s", codeName(r.ErrorCode))
	}
}
