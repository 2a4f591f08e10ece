package handler_test

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestCreatePartitions(t *testing.T) {
	a := startAdmin(t)
	a.createTopic(t, "grow", 1, nil)

	res, err := a.adm.ValidateCreatePartitions(admCtx(t), 2, "grow")
	if err != nil || res["grow"].Err != nil {
		t.Fatalf("validate only: %v %+v", err, res)
	}
	partitions := func() int {
		md, err := a.adm.Metadata(admCtx(t), "grow")
		if err != nil {
			t.Fatal(err)
		}
		return len(md.Topics["grow"].Partitions)
	}
	if n := partitions(); n != 1 {
		t.Fatalf("validate only added partitions: %d", n)
	}

	res, err = a.adm.CreatePartitions(admCtx(t), 2, "grow")
	if err != nil || res["grow"].Err != nil {
		t.Fatalf("create partitions: %v %+v", err, res)
	}
	if n := partitions(); n != 3 {
		t.Fatalf("partitions after adding 2 = %d, want 3", n)
	}
	a.produce(t, "grow", 2, 3) // the new partition takes records

	res, err = a.adm.UpdatePartitions(admCtx(t), 2, "grow")
	if err != nil {
		t.Fatal(err)
	}
	if r := res["grow"]; errName(r.Err) != "INVALID_PARTITIONS" || r.ErrMessage != "The topic grow currently has 3 partition(s); 2 would not be an increase." {
		t.Errorf("shrink: %v %q", r.Err, r.ErrMessage)
	}

	// An explicit assignment naming an unknown broker, and an unknown
	// topic (kadm checks both itself: send them raw).
	req := kmsg.NewPtrCreatePartitionsRequest()
	rt := kmsg.NewCreatePartitionsRequestTopic()
	rt.Topic, rt.Count = "grow", 4
	rt.Assignment = []kmsg.CreatePartitionsRequestTopicAssignment{{Replicas: []int32{5}}}
	req.Topics = append(req.Topics, rt)
	rt = kmsg.NewCreatePartitionsRequestTopic()
	rt.Topic, rt.Count = "nope", 4
	req.Topics = append(req.Topics, rt)
	resp := a.request(t, req).(*kmsg.CreatePartitionsResponse)
	st := resp.Topics[0]
	if codeName(st.ErrorCode) != "INVALID_REPLICA_ASSIGNMENT" || st.ErrorMessage == nil ||
		*st.ErrorMessage != "The manual partition assignment includes broker 5, but no such broker is registered." {
		t.Errorf("bad assignment: %s %v", codeName(st.ErrorCode), st.ErrorMessage)
	}
	if st := resp.Topics[1]; st.Topic != "nope" || codeName(st.ErrorCode) != "UNKNOWN_TOPIC_OR_PARTITION" {
		t.Errorf("unknown topic: %s %s", st.Topic, codeName(st.ErrorCode))
	}
}
