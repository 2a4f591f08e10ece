package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/node/nodetest"
)

// TestStringsTooLongForRecords: a group id, member id, instance id,
// protocol name or transactional id longer than a record key's int16
// length can hold is refused with an error code; it does not kill the
// broker (the wire fuzzer's ConsumerGroupHeartbeat with a 34,345-byte
// group id did: the coordinator's check that its own record decodes
// panicked) nor write a record that cannot be replayed (the restart
// below loads both coordinators).
func TestStringsTooLongForRecords(t *testing.T) {
	r := nodetest.StartRestartable(t)
	long := strings.Repeat("x", 40000)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl := nodetest.Client(t, r.Node)
	send := func(req kmsg.Request) kmsg.Response {
		t.Helper()
		resp, err := cl.Request(ctx, req)
		if err != nil {
			t.Fatalf("%T: %v", req, err)
		}
		return resp
	}

	for _, c := range []struct{ group, member string }{{long, "m"}, {"g", long}} {
		hb := kmsg.NewPtrConsumerGroupHeartbeatRequest()
		hb.Group, hb.MemberID, hb.MemberEpoch, hb.RebalanceTimeoutMillis = c.group, c.member, 0, 1000
		hb.SubscribedTopicNames, hb.Topics = []string{"t"}, []kmsg.ConsumerGroupHeartbeatRequestTopic{}
		if got := send(hb).(*kmsg.ConsumerGroupHeartbeatResponse).ErrorCode; got != kerr.InvalidRequest.Code {
			t.Errorf("ConsumerGroupHeartbeat with a %d-byte group id and %d-byte member id: %v, want INVALID_REQUEST", len(c.group), len(c.member), kerr.ErrorForCode(got))
		}
	}

	join := func(mod func(*kmsg.JoinGroupRequest)) int16 {
		req := kmsg.NewPtrJoinGroupRequest()
		req.Group, req.SessionTimeoutMillis, req.RebalanceTimeoutMillis, req.ProtocolType = "g", 10000, 1000, "consumer"
		p := kmsg.NewJoinGroupRequestProtocol()
		p.Name, p.Metadata = "range", []byte{0, 0, 0, 0, 0, 0, 0, 0}
		req.Protocols = append(req.Protocols, p)
		mod(req)
		return send(req).(*kmsg.JoinGroupResponse).ErrorCode
	}
	for name, c := range map[string]struct {
		mod  func(*kmsg.JoinGroupRequest)
		want *kerr.Error
	}{
		"group id":      {func(r *kmsg.JoinGroupRequest) { r.Group = long }, kerr.InvalidGroupID},
		"instance id":   {func(r *kmsg.JoinGroupRequest) { r.InstanceID = &long }, kerr.InvalidRequest},
		"protocol type": {func(r *kmsg.JoinGroupRequest) { r.ProtocolType = long }, kerr.InvalidRequest},
		"protocol name": {func(r *kmsg.JoinGroupRequest) { r.Protocols[0].Name = long }, kerr.InvalidRequest},
	} {
		if got := join(c.mod); got != c.want.Code {
			t.Errorf("JoinGroup with a long %s: %v, want %v", name, kerr.ErrorForCode(got), c.want)
		}
	}

	adm := nodetest.Admin(t, r.Node)
	created, err := adm.CreateTopic(ctx, 1, 1, nil, "t")
	if err != nil {
		t.Fatal(err)
	}
	commit := kmsg.NewPtrOffsetCommitRequest()
	commit.Group, commit.Generation = long, -1
	ct := kmsg.NewOffsetCommitRequestTopic()
	ct.Topic, ct.TopicID = "t", created.ID
	cp := kmsg.NewOffsetCommitRequestTopicPartition()
	cp.Offset = 5
	ct.Partitions = append(ct.Partitions, cp)
	commit.Topics = append(commit.Topics, ct)
	if got := send(commit).(*kmsg.OffsetCommitResponse); got.Topics[0].Partitions[0].ErrorCode != kerr.InvalidGroupID.Code {
		t.Errorf("OffsetCommit with a long group id: %v, want INVALID_GROUP_ID", kerr.ErrorForCode(got.Topics[0].Partitions[0].ErrorCode))
	}
	init := kmsg.NewPtrInitProducerIDRequest()
	init.TransactionalID, init.TransactionTimeoutMillis = &long, 10000
	if got := send(init).(*kmsg.InitProducerIDResponse).ErrorCode; got != kerr.InvalidRequest.Code {
		t.Errorf("InitProducerId with a long transactional id: %v, want INVALID_REQUEST", kerr.ErrorForCode(got))
	}

	// Both coordinators still load and work after a restart.
	n := r.Restart()
	tx := nodetest.Client(t, n, kgo.TransactionalID("tx"))
	if err := tx.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := tx.EndTransaction(ctx, kgo.TryAbort); err != nil {
		t.Fatalf("a transaction after the restart: %v", err)
	}
	adm = nodetest.Admin(t, n)
	var offs kadm.Offsets
	offs.Add(kadm.Offset{Topic: "t", Partition: 0, At: 5, LeaderEpoch: -1})
	if res, err := adm.CommitOffsets(ctx, "g", offs); err != nil || res.Error() != nil {
		t.Fatalf("an offset commit after the restart: %v %v", err, res.Error())
	}
}
