package handler_test

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"

	"github.com/sluice-io/sluice/internal/node/nodetest"
)

// versionClient sends requests to broker 1 with the given API versions
// as maxima (kgo picks them, as a client of that era would).
func versionClient(t *testing.T, a *admNode, versions map[int16]int16) *kgo.Client {
	t.Helper()
	vs := kversion.Tip()
	for k, v := range versions {
		vs.SetMaxKeyVersion(k, v)
	}
	return nodetest.Client(t, a.n, kgo.MaxVersions(vs))
}

func send[R kmsg.Response](t *testing.T, cl *kgo.Client, req kmsg.Request) R {
	t.Helper()
	resp, err := cl.Broker(1).Request(admCtx(t), req)
	if err != nil {
		t.Fatalf("%T: %v", req, err)
	}
	return resp.(R)
}

// consumerMeta is a consumer subscription to topic t.
func consumerMeta() []byte {
	m := kmsg.NewConsumerMemberMetadata()
	m.Topics = []string{"t"}
	return m.AppendTo(nil)
}

// TestGroupLifecycleVersions runs one member through JoinGroup,
// SyncGroup, Heartbeat, OffsetCommit, OffsetFetch and LeaveGroup at every
// JoinGroup version, the other APIs at the version a client of that era
// pairs with it.
func TestGroupLifecycleVersions(t *testing.T) {
	a := startAdmin(t)
	a.createTopic(t, "t", 1, nil)
	for v := int16(0); v <= 9; v++ {
		cl := versionClient(t, a, map[int16]int16{11: v, 14: min(v, 5), 12: min(v, 4), 13: min(v, 5), 8: min(v+2, 10), 9: min(v+1, 10)})
		group := "g" + string(rune('0'+v))
		if fc := send[*kmsg.FindCoordinatorResponse](t, cl, &kmsg.FindCoordinatorRequest{CoordinatorKey: group, CoordinatorKeys: []string{group}}); fc.ErrorCode != 0 && (len(fc.Coordinators) == 0 || fc.Coordinators[0].ErrorCode != 0) {
			t.Fatalf("v%d find coordinator: %+v", v, fc)
		}
		join := kmsg.NewPtrJoinGroupRequest()
		join.Group, join.SessionTimeoutMillis, join.RebalanceTimeoutMillis, join.ProtocolType = group, 10_000, 10_000, "consumer"
		join.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "range", Metadata: consumerMeta()}}
		jr := send[*kmsg.JoinGroupResponse](t, cl, join)
		if v >= 4 {
			if codeName(jr.ErrorCode) != "MEMBER_ID_REQUIRED" || jr.MemberID == "" {
				t.Fatalf("v%d first join: %s %q", v, codeName(jr.ErrorCode), jr.MemberID)
			}
			join.MemberID = jr.MemberID
			jr = send[*kmsg.JoinGroupResponse](t, cl, join)
		}
		if jr.ErrorCode != 0 || jr.Generation != 1 || jr.LeaderID != jr.MemberID || len(jr.Members) != 1 {
			t.Fatalf("v%d join: %s gen %d leader %q member %q", v, codeName(jr.ErrorCode), jr.Generation, jr.LeaderID, jr.MemberID)
		}
		sync := kmsg.NewPtrSyncGroupRequest()
		sync.Group, sync.Generation, sync.MemberID = group, 1, jr.MemberID
		sync.ProtocolType, sync.Protocol = strp("consumer"), strp("range")
		sync.GroupAssignment = []kmsg.SyncGroupRequestGroupAssignment{{MemberID: jr.MemberID, MemberAssignment: []byte("assigned")}}
		if sr := send[*kmsg.SyncGroupResponse](t, cl, sync); sr.ErrorCode != 0 || string(sr.MemberAssignment) != "assigned" {
			t.Fatalf("v%d sync: %s %q", v, codeName(sr.ErrorCode), sr.MemberAssignment)
		}
		hb := kmsg.NewPtrHeartbeatRequest()
		hb.Group, hb.Generation, hb.MemberID = group, 1, jr.MemberID
		if hr := send[*kmsg.HeartbeatResponse](t, cl, hb); hr.ErrorCode != 0 {
			t.Fatalf("v%d heartbeat: %s", v, codeName(hr.ErrorCode))
		}
		hb.Generation = 2
		if hr := send[*kmsg.HeartbeatResponse](t, cl, hb); codeName(hr.ErrorCode) != "ILLEGAL_GENERATION" {
			t.Fatalf("v%d heartbeat of a wrong generation: %s", v, codeName(hr.ErrorCode))
		}
		leave := kmsg.NewPtrLeaveGroupRequest()
		leave.Group, leave.MemberID = group, jr.MemberID
		leave.Members = []kmsg.LeaveGroupRequestMember{{MemberID: jr.MemberID}}
		if lr := send[*kmsg.LeaveGroupResponse](t, cl, leave); lr.ErrorCode != 0 || (len(lr.Members) > 0 && lr.Members[0].ErrorCode != 0) {
			t.Fatalf("v%d leave: %+v", v, lr)
		}
		if hr := send[*kmsg.HeartbeatResponse](t, cl, hb); codeName(hr.ErrorCode) != "UNKNOWN_MEMBER_ID" {
			t.Fatalf("v%d heartbeat after leaving: %s", v, codeName(hr.ErrorCode))
		}
	}
}

func TestJoinGroupErrors(t *testing.T) {
	a := startAdmin(t)
	cl := nodetest.Client(t, a.n)
	send[*kmsg.FindCoordinatorResponse](t, cl, &kmsg.FindCoordinatorRequest{CoordinatorKeys: []string{"g"}})
	tests := []struct {
		name    string
		group   string
		session int32
		ptype   string
		want    string
	}{
		{"session timeout too long", "g", 2_000_000, "consumer", "INVALID_SESSION_TIMEOUT"},
		{"empty group id", "", 10_000, "consumer", "INVALID_GROUP_ID"},
		{"no protocol type", "g", 10_000, "", "INCONSISTENT_GROUP_PROTOCOL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := kmsg.NewPtrJoinGroupRequest()
			req.Group, req.SessionTimeoutMillis, req.RebalanceTimeoutMillis, req.ProtocolType = tt.group, tt.session, 10_000, tt.ptype
			req.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "range", Metadata: consumerMeta()}}
			if r := send[*kmsg.JoinGroupResponse](t, cl, req); codeName(r.ErrorCode) != tt.want {
				t.Fatalf("code %s, want %s", codeName(r.ErrorCode), tt.want)
			}
		})
	}
}
