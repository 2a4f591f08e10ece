package handler_test

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// The consumer group protocol on the wire, at every version: a join, a
// heartbeat, ConsumerGroupDescribe, a leave.
func TestConsumerGroupHeartbeat(t *testing.T) {
	a := startAdmin(t)
	a.createTopic(t, "t", 3, nil)
	for _, c := range a.adm.FindGroupCoordinators(admCtx(t), "g0", "g1") {
		if c.Err != nil {
			t.Fatal(c.Err)
		}
	}
	for v := int16(0); v <= 1; v++ {
		group := []string{"g0", "g1"}[v]
		join := kmsg.NewPtrConsumerGroupHeartbeatRequest()
		join.Group, join.RebalanceTimeoutMillis = group, 30_000
		join.SubscribedTopicNames, join.Topics = []string{"t"}, []kmsg.ConsumerGroupHeartbeatRequestTopic{}
		if v >= 1 {
			join.MemberID = "client-made-id" // KIP-1082
		}
		r := a.requestAt(t, v, join).(*kmsg.ConsumerGroupHeartbeatResponse)
		if r.ErrorCode != 0 || r.MemberID == nil || r.MemberEpoch != 1 || r.Assignment == nil ||
			len(r.Assignment.Topics) != 1 || len(r.Assignment.Topics[0].Partitions) != 3 || r.HeartbeatIntervalMillis != 5000 {
			t.Fatalf("v%d join: %+v", v, r)
		}
		member := *r.MemberID
		beat := kmsg.NewPtrConsumerGroupHeartbeatRequest()
		beat.Group, beat.MemberID, beat.MemberEpoch = group, member, 1
		if r := a.requestAt(t, v, beat).(*kmsg.ConsumerGroupHeartbeatResponse); r.ErrorCode != 0 || r.Assignment != nil {
			t.Fatalf("v%d heartbeat: %+v", v, r)
		}
		beat.MemberEpoch = 5
		if r := a.requestAt(t, v, beat).(*kmsg.ConsumerGroupHeartbeatResponse); codeName(r.ErrorCode) != "FENCED_MEMBER_EPOCH" {
			t.Fatalf("v%d heartbeat with a future epoch: %s", v, codeName(r.ErrorCode))
		}

		desc := kmsg.NewPtrConsumerGroupDescribeRequest()
		desc.Groups = []string{group, "missing"}
		d := a.requestAt(t, v, desc).(*kmsg.ConsumerGroupDescribeResponse)
		g, m := d.Groups[0], d.Groups[1]
		if g.ErrorCode != 0 || g.State != "Stable" || g.Epoch != 1 || len(g.Members) != 1 || g.Members[0].MemberID != member ||
			len(g.Members[0].Assignment.TopicPartitions) != 1 || g.Members[0].Assignment.TopicPartitions[0].Topic != "t" {
			t.Fatalf("v%d describe: %+v", v, g)
		}
		if codeName(m.ErrorCode) != "GROUP_ID_NOT_FOUND" {
			t.Fatalf("v%d describe missing: %+v", v, m)
		}

		leave := kmsg.NewPtrConsumerGroupHeartbeatRequest()
		leave.Group, leave.MemberID, leave.MemberEpoch = group, member, -1
		if r := a.requestAt(t, v, leave).(*kmsg.ConsumerGroupHeartbeatResponse); r.ErrorCode != 0 || r.MemberEpoch != -1 {
			t.Fatalf("v%d leave: %+v", v, r)
		}
	}
	bad := kmsg.NewPtrConsumerGroupHeartbeatRequest()
	bad.Group, bad.MemberEpoch = "g1", 1
	if r := a.request(t, bad).(*kmsg.ConsumerGroupHeartbeatResponse); codeName(r.ErrorCode) != "INVALID_REQUEST" || r.ErrorMessage == nil {
		t.Fatalf("heartbeat without a member id: %+v", r)
	}
}
