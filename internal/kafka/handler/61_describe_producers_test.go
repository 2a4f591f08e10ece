package handler_test

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestDescribeProducers(t *testing.T) {
	a := startAdmin(t)
	a.createTopic(t, "dp", 2, nil)
	pid := a.initProducerID(t)
	for seq := int32(0); seq < 6; seq += 3 {
		if r := a.produceIdempotent(t, "dp", 1, pid, 0, seq, 3); r.ErrorCode != 0 {
			t.Fatalf("produce seq %d: %s", seq, codeName(r.ErrorCode))
		}
	}
	req := kmsg.NewPtrDescribeProducersRequest()
	for _, tp := range []struct {
		topic string
		parts []int32
	}{{"dp", []int32{1, 0, 2}}, {"missing", []int32{0}}} {
		rt := kmsg.NewDescribeProducersRequestTopic()
		rt.Topic, rt.Partitions = tp.topic, tp.parts
		req.Topics = append(req.Topics, rt)
	}
	resp := a.requestAt(t, 0, req).(*kmsg.DescribeProducersResponse)
	if len(resp.Topics) != 2 || len(resp.Topics[0].Partitions) != 3 {
		t.Fatalf("response shape: %+v", resp.Topics)
	}
	p1 := resp.Topics[0].Partitions[0]
	if p1.Partition != 1 || p1.ErrorCode != 0 || len(p1.ActiveProducers) != 1 {
		t.Fatalf("partition 1: %+v", p1)
	}
	ap := p1.ActiveProducers[0]
	if ap.ProducerID != pid || ap.ProducerEpoch != 0 || ap.LastSequence != 5 || ap.LastTimestamp <= 0 ||
		ap.CoordinatorEpoch != -1 || ap.CurrentTxnStartOffset != -1 {
		t.Fatalf("active producer: %+v", ap)
	}
	if p0 := resp.Topics[0].Partitions[1]; p0.ErrorCode != 0 || len(p0.ActiveProducers) != 0 {
		t.Fatalf("partition 0: %+v", p0)
	}
	if p2 := resp.Topics[0].Partitions[2]; codeName(p2.ErrorCode) != codeName(3) {
		t.Fatalf("partition 2: %s, want UNKNOWN_TOPIC_OR_PARTITION", codeName(p2.ErrorCode))
	}
	if m := resp.Topics[1].Partitions[0]; codeName(m.ErrorCode) != codeName(3) {
		t.Fatalf("missing topic: %s, want UNKNOWN_TOPIC_OR_PARTITION", codeName(m.ErrorCode))
	}
}
