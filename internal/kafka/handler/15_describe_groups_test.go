package handler_test

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/node/nodetest"
)

// groupMember starts a franz-go consumer in group reading topic and waits
// until the group is Stable with it.
func groupMember(t *testing.T, a *admNode, group, topic string) *kgo.Client {
	t.Helper()
	cl := nodetest.Client(t, a.n, kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
		kgo.ClientID("member"), kgo.HeartbeatInterval(100*time.Millisecond))
	go cl.PollFetches(admCtx(t)) // polling joins the group
	deadline := time.Now().Add(10 * time.Second)
	for {
		ds, err := a.adm.DescribeGroups(admCtx(t), group)
		if err == nil && ds[group].State == "Stable" {
			return cl
		}
		if time.Now().After(deadline) {
			t.Fatalf("group %s not stable: %v %+v", group, err, ds[group])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestDescribeGroups(t *testing.T) {
	a := startAdmin(t)
	a.createTopic(t, "t", 1, nil)
	groupMember(t, a, "g", "t")
	for v := int16(0); v <= 6; v++ {
		req := kmsg.NewPtrDescribeGroupsRequest()
		req.Groups, req.IncludeAuthorizedOperations = []string{"g", "missing"}, true
		resp := a.requestAt(t, v, req).(*kmsg.DescribeGroupsResponse)
		g, m := resp.Groups[0], resp.Groups[1]
		if g.ErrorCode != 0 || g.State != "Stable" || g.ProtocolType != "consumer" || g.Protocol == "" || len(g.Members) != 1 {
			t.Fatalf("v%d describe: %+v", v, g)
		}
		mem := g.Members[0]
		if mem.ClientID != "member" || mem.ClientHost != "/127.0.0.1" || len(mem.ProtocolMetadata) == 0 || len(mem.MemberAssignment) == 0 {
			t.Fatalf("v%d member: %+v", v, mem)
		}
		if v >= 3 && g.AuthorizedOperations <= 0 {
			t.Fatalf("v%d authorized operations %d", v, g.AuthorizedOperations)
		}
		wantMissing := "OK"
		if v >= 6 {
			wantMissing = "GROUP_ID_NOT_FOUND"
		}
		if m.State != "Dead" || codeName(m.ErrorCode) != wantMissing {
			t.Fatalf("v%d missing group: %+v", v, m)
		}
	}
}
