package handler_test

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/metadata"
	"github.com/sluice-io/sluice/internal/node"
	"github.com/sluice-io/sluice/internal/replica"
)

// withCleanupPolicy makes the node's topics honour cleanup.policy.
func withCleanupPolicy(o *node.Options) {
	base := o.TopicConfig
	o.TopicConfig = func(im *metadata.Image, overrides map[string]string) replica.Config {
		c := base(im, overrides)
		if p, ok := overrides["cleanup.policy"]; ok {
			c.Storage.CleanupPolicy = p
		}
		return c
	}
}

func TestDeleteRecords(t *testing.T) {
	a := startAdmin(t, withCleanupPolicy)
	a.createTopic(t, "recs", 2, nil)
	a.createTopic(t, "compacted", 1, map[string]*string{"cleanup.policy": strp("compact")})
	a.createTopic(t, "__consumer_offsets", 1, nil)
	a.produce(t, "recs", 0, 10)
	a.produce(t, "recs", 1, 10)

	tests := []struct {
		name      string
		topic     string
		partition int32
		offset    int64
		wantErr   string
		wantLow   int64
	}{
		{"raise the log start offset", "recs", 0, 4, "OK", 4},
		{"at the current log start offset", "recs", 0, 4, "OK", 4},
		{"below the log start offset", "recs", 0, 2, "OK", 4},
		{"high watermark", "recs", 1, -1, "OK", 10},
		{"above the high watermark", "recs", 0, 11, "OFFSET_OUT_OF_RANGE", -1},
		{"negative", "recs", 0, -5, "OFFSET_OUT_OF_RANGE", -1},
		{"unknown partition", "recs", 7, 1, "UNKNOWN_TOPIC_OR_PARTITION", -1},
		{"unknown topic", "nope", 0, 1, "UNKNOWN_TOPIC_OR_PARTITION", -1},
		{"compacted topic", "compacted", 0, 0, "POLICY_VIOLATION", -1},
		{"internal topic", "__consumer_offsets", 0, 0, "INVALID_TOPIC_EXCEPTION", -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := kmsg.NewPtrDeleteRecordsRequest()
			rt := kmsg.NewDeleteRecordsRequestTopic()
			rt.Topic = tt.topic
			rt.Partitions = []kmsg.DeleteRecordsRequestTopicPartition{{Partition: tt.partition, Offset: tt.offset}}
			req.Topics = append(req.Topics, rt)
			resp := a.request(t, req).(*kmsg.DeleteRecordsResponse)
			sp := resp.Topics[0].Partitions[0]
			if codeName(sp.ErrorCode) != tt.wantErr || sp.LowWatermark != tt.wantLow {
				t.Fatalf("got %s low %d, want %s low %d", codeName(sp.ErrorCode), sp.LowWatermark, tt.wantErr, tt.wantLow)
			}
		})
	}

	starts, err := a.adm.ListStartOffsets(admCtx(t), "recs")
	if err != nil {
		t.Fatal(err)
	}
	for p, want := range map[int32]int64{0: 4, 1: 10} {
		if o, _ := starts.Lookup("recs", p); o.Offset != want {
			t.Errorf("log start offset of recs-%d = %d, want %d", p, o.Offset, want)
		}
	}
}

func TestDeleteRecordsKadm(t *testing.T) {
	a := startAdmin(t)
	a.createTopic(t, "k", 1, nil)
	a.produce(t, "k", 0, 5)
	var os kadm.Offsets
	os.Add(kadm.Offset{Topic: "k", Partition: 0, At: 3})
	res, err := a.adm.DeleteRecords(admCtx(t), os)
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := res.Lookup("k", 0); !ok || r.Err != nil || r.LowWatermark != 3 {
		t.Fatalf("delete records = %+v", r)
	}
	starts, err := a.adm.ListStartOffsets(admCtx(t), "k")
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := starts.Lookup("k", 0); o.Offset != 3 {
		t.Fatalf("log start offset = %d, want 3", o.Offset)
	}
}
