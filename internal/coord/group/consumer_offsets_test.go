package group

import (
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/coord/runtime"
)

// ccommit commits offset 100+p of topic's partitions with an
// OffsetCommit of version v and returns each partition's code.
func (h *cgHarness) ccommit(v int16, group, member string, epoch int32, topic string, ps ...int32) []int16 {
	h.t.Helper()
	req := kmsg.NewPtrOffsetCommitRequest()
	req.Version, req.Group, req.MemberID, req.Generation = v, group, member, epoch
	resp := make([]kmsg.OffsetCommitResponseTopicPartition, len(ps))
	var parts []commitPartition
	for i, p := range ps {
		rp := kmsg.NewOffsetCommitRequestTopicPartition()
		rp.Partition, rp.Offset = p, 100+int64(p)
		parts = append(parts, commitPartition{topic: topic, part: &rp, resp: &resp[i]})
	}
	h.run(func(s *shard, w *runtime.Writer) { s.commit(w, req, parts) })
	codes := make([]int16, len(resp))
	for i := range resp {
		codes[i] = resp[i].ErrorCode
	}
	return codes
}

func TestConsumerOffsetCommitEpochs(t *testing.T) {
	h := newCGHarness(t, map[string]int{"t": 2})
	m1, m2 := h.member("g", "m1", "t"), h.member("g", "m2", "t")
	m1.join()
	if got := h.ccommit(9, "g", "m1", 1, "t", 0, 1); !slices.Equal(got, []int16{0, 0}) {
		t.Fatalf("commit at the member epoch: %v", got)
	}
	settle(t, m1, m2) // m1 moves to epoch 2 keeping one partition it had since epoch 1
	kept := m1.owned["t"][0]
	lost := 1 - kept
	tests := []struct {
		name   string
		v      int16
		member string
		epoch  int32
		p      int32
		want   int16
	}{
		{"current epoch", 9, "m1", 2, kept, 0},
		{"older epoch, partition held since (KIP-1251)", 9, "m1", 1, kept, 0},
		{"older epoch, partition revoked", 9, "m1", 1, lost, codeStaleMemberEpoch},
		{"newer epoch", 9, "m1", 3, kept, codeFencedMemberEpoch},
		{"unknown member", 9, "nobody", 2, kept, codeUnknownMemberID},
		{"no member while members exist", 9, "", -1, kept, codeUnknownMemberID},
		{"before v9", 8, "m1", 2, kept, codeUnsupportedVersion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := h.ccommit(tt.v, "g", tt.member, tt.epoch, "t", tt.p); got[0] != tt.want {
				t.Fatalf("code %d, want %d", got[0], tt.want)
			}
		})
	}
	m1.leave(false)
	m2.leave(false)
	if got := h.ccommit(9, "g", "", -1, "t", 0); got[0] != 0 {
		t.Fatalf("admin commit to an empty group: %d", got[0])
	}
}

func TestConsumerOffsetFetchEpochs(t *testing.T) {
	h := newCGHarness(t, map[string]int{"t": 2})
	h.member("g", "m1", "t").join()
	tests := []struct {
		member *string
		epoch  int32
		want   int16
	}{
		{nil, -1, 0},
		{ptr("m1"), 1, 0},
		{ptr("m1"), 0, codeStaleMemberEpoch},
		{ptr("m1"), 2, codeFencedMemberEpoch},
		{ptr("x"), 1, codeUnknownMemberID},
	}
	for _, tt := range tests {
		var got int16
		h.run(func(s *shard, _ *runtime.Writer) { got = s.validateConsumerFetch("g", tt.member, tt.epoch) })
		if got != tt.want {
			t.Errorf("fetch as %v@%d: %d, want %d", deref(tt.member), tt.epoch, got, tt.want)
		}
	}
}

// Offsets of topics no member reads expire; an empty group without
// offsets goes, as its records' tombstones.
func TestConsumerOffsetExpiration(t *testing.T) {
	h := newCGHarness(t, map[string]int{"t": 1, "u": 1}, func(o *Options) {
		o.OffsetsRetention, o.OffsetsRetentionCheckInterval = time.Minute, 10*time.Second
	})
	m := h.member("g", "m1", "t")
	m.join()
	h.ccommit(9, "g", "m1", 1, "t", 0)
	h.ccommit(9, "g", "m1", 1, "u", 0)
	for range 90 {
		h.advance(time.Second)
		m.beat()
	}
	g := h.group("g")
	if g.offsets["t"] == nil || g.offsets["u"] != nil {
		t.Fatalf("after retention: %v", g.offsets)
	}
	m.leave(false)
	h.advance(2 * time.Minute)
	if h.group("g") != nil {
		t.Fatal("empty group without offsets not deleted")
	}
	h.restart()
	if h.group("g") != nil {
		t.Fatal("deleted group came back on reload")
	}
}

func TestConsumerDeleteAndAdmin(t *testing.T) {
	h := newCGHarness(t, map[string]int{"t": 2})
	m := h.member("g", "m1", "t")
	m.join()
	h.ccommit(9, "g", "m1", 1, "t", 0, 1)
	var code int16
	h.run(func(s *shard, w *runtime.Writer) { code = s.deleteGroup(w, "g") })
	if code != codeNonEmptyGroup {
		t.Fatalf("delete with members: %d", code)
	}
	odr := kmsg.NewPtrOffsetDeleteRequest()
	odr.Group = "g"
	odr.Topics = []kmsg.OffsetDeleteRequestTopic{{Topic: "t", Partitions: []kmsg.OffsetDeleteRequestTopicPartition{{Partition: 0}}}}
	resp := kmsg.NewPtrOffsetDeleteResponse()
	h.run(func(s *shard, w *runtime.Writer) { s.offsetDelete(w, odr, resp) })
	if resp.Topics[0].Partitions[0].ErrorCode != codeGroupSubscribedToTopic {
		t.Fatalf("offset delete of a subscribed topic: %+v", resp)
	}

	var listed []kmsg.ListGroupsResponseGroup
	h.run(func(s *shard, _ *runtime.Writer) { listed = s.list(nil, []string{"stable"}, []string{"Consumer"}, nil) })
	if len(listed) != 1 || listed[0].GroupType != "consumer" || listed[0].ProtocolType != "consumer" || listed[0].GroupState != "Stable" {
		t.Fatalf("list: %+v", listed)
	}
	h.run(func(s *shard, _ *runtime.Writer) { listed = s.list(nil, nil, []string{"classic"}, nil) })
	if len(listed) != 0 {
		t.Fatalf("classic filter lists a consumer group: %+v", listed)
	}
	var dg kmsg.DescribeGroupsResponseGroup
	h.run(func(s *shard, _ *runtime.Writer) { dg = s.describe("g", 6, false) })
	if dg.State != "Dead" || dg.ErrorCode != codeGroupIDNotFound {
		t.Fatalf("DescribeGroups of a consumer group: %+v", dg)
	}
	var cd kmsg.ConsumerGroupDescribeResponseGroup
	h.run(func(s *shard, _ *runtime.Writer) { cd = s.consumerDescribe("g", true, h.im) })
	if cd.ErrorCode != 0 || cd.State != "Stable" || cd.Epoch != 1 || cd.AssignorName != "uniform" || len(cd.Members) != 1 ||
		len(cd.Members[0].Assignment.TopicPartitions) != 1 || cd.Members[0].Assignment.TopicPartitions[0].Topic != "t" ||
		cd.Members[0].MemberType != memberTypeConsumer || cd.AuthorizedOperations != groupAuthorizedOps {
		t.Fatalf("ConsumerGroupDescribe: %+v", cd)
	}

	m.leave(false)
	h.run(func(s *shard, w *runtime.Writer) { code = s.deleteGroup(w, "g") })
	if code != 0 || h.group("g") != nil {
		t.Fatalf("delete of an empty consumer group: %d", code)
	}
	h.run(func(s *shard, _ *runtime.Writer) { cd = s.consumerDescribe("g", false, h.im) })
	if cd.ErrorCode != codeGroupIDNotFound {
		t.Fatalf("describe a deleted group: %+v", cd)
	}
	h.restart()
	if h.group("g") != nil {
		t.Fatal("deleted group came back on reload")
	}
}
