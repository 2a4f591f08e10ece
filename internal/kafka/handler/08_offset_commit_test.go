package handler_test

import (
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestOffsetCommitFetchVersions commits as a simple consumer at every
// OffsetCommit version and reads the offset back at every OffsetFetch
// version.
func TestOffsetCommitFetchVersions(t *testing.T) {
	a := startAdmin(t)
	a.createTopic(t, "t", 2, nil)
	topics, err := a.adm.ListTopics(admCtx(t), "t")
	if err != nil {
		t.Fatal(err)
	}
	id := topics["t"].ID
	send[*kmsg.FindCoordinatorResponse](t, a.cl, &kmsg.FindCoordinatorRequest{CoordinatorKeys: []string{"g"}})
	for cv := int16(0); cv <= 10; cv++ {
		commit := kmsg.NewPtrOffsetCommitRequest()
		commit.Group = "g"
		ct := kmsg.NewOffsetCommitRequestTopic()
		ct.Topic, ct.TopicID = "t", id
		cp := kmsg.NewOffsetCommitRequestTopicPartition()
		cp.Partition, cp.Offset, cp.LeaderEpoch, cp.Metadata = 1, int64(100+cv), 0, strp("meta")
		ct.Partitions = []kmsg.OffsetCommitRequestTopicPartition{cp}
		commit.Topics = []kmsg.OffsetCommitRequestTopic{ct}
		cr := a.requestAt(t, cv, commit).(*kmsg.OffsetCommitResponse)
		if len(cr.Topics) != 1 || cr.Topics[0].Partitions[0].ErrorCode != 0 {
			t.Fatalf("commit v%d: %+v", cv, cr)
		}
		for fv := int16(0); fv <= 10; fv++ {
			if got := fetchOne(t, a, fv, "g", "t", id, 1); got != int64(100+cv) {
				t.Fatalf("commit v%d, fetch v%d: offset %d", cv, fv, got)
			}
		}
	}
}

// fetchOne reads one partition's committed offset at version v.
func fetchOne(t *testing.T, a *admNode, v int16, group, topic string, id [16]byte, p int32) int64 {
	t.Helper()
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Group = group
	req.Topics = []kmsg.OffsetFetchRequestTopic{{Topic: topic, Partitions: []int32{p}}}
	rg := kmsg.NewOffsetFetchRequestGroup()
	rg.Group = group
	rg.Topics = []kmsg.OffsetFetchRequestGroupTopic{{Topic: topic, TopicID: id, Partitions: []int32{p}}}
	req.Groups = []kmsg.OffsetFetchRequestGroup{rg}
	resp := a.requestAt(t, v, req).(*kmsg.OffsetFetchResponse)
	if v >= 8 {
		g := resp.Groups[0]
		if g.ErrorCode != 0 || len(g.Topics) != 1 || g.Topics[0].Partitions[0].ErrorCode != 0 {
			t.Fatalf("fetch v%d: %+v", v, resp)
		}
		return g.Topics[0].Partitions[0].Offset
	}
	if resp.ErrorCode != 0 || len(resp.Topics) != 1 || resp.Topics[0].Partitions[0].ErrorCode != 0 {
		t.Fatalf("fetch v%d: %+v", v, resp)
	}
	return resp.Topics[0].Partitions[0].Offset
}

func TestOffsetCommitErrors(t *testing.T) {
	a := startAdmin(t)
	a.createTopic(t, "t", 1, nil)
	send[*kmsg.FindCoordinatorResponse](t, a.cl, &kmsg.FindCoordinatorRequest{CoordinatorKeys: []string{"g"}})
	tests := []struct {
		name      string
		topic     string
		partition int32
		meta      string
		gen       int32
		want      string
	}{
		{"unknown topic", "nope", 0, "", -1, "UNKNOWN_TOPIC_OR_PARTITION"},
		{"unknown partition", "t", 5, "", -1, "UNKNOWN_TOPIC_OR_PARTITION"},
		{"metadata too large", "t", 0, strings.Repeat("m", 4097), -1, "OFFSET_METADATA_TOO_LARGE"},
		{"generation of a missing group", "t", 0, "", 3, "ILLEGAL_GENERATION"},
		{"simple commit", "t", 0, "", -1, "OK"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := kmsg.NewPtrOffsetCommitRequest()
			req.Group, req.Generation, req.MemberID = "g", tt.gen, "m"
			if tt.gen < 0 {
				req.MemberID = ""
			}
			rt := kmsg.NewOffsetCommitRequestTopic()
			rt.Topic = tt.topic
			rp := kmsg.NewOffsetCommitRequestTopicPartition()
			rp.Partition, rp.Offset, rp.Metadata = tt.partition, 1, &tt.meta
			rt.Partitions = append(rt.Partitions, rp)
			req.Topics = append(req.Topics, rt)
			resp := a.requestAt(t, 9, req).(*kmsg.OffsetCommitResponse)
			if got := codeName(resp.Topics[0].Partitions[0].ErrorCode); got != tt.want {
				t.Fatalf("code %s, want %s", got, tt.want)
			}
		})
	}
}
