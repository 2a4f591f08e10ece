package handler_test

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestOffsetForLeaderEpoch(t *testing.T) {
	a := startAdmin(t)
	a.createTopic(t, "epochs", 2, nil)
	a.produce(t, "epochs", 0, 7)

	tests := []struct {
		name         string
		version      int16
		topic        string
		partition    int32
		current      int32
		epoch        int32
		wantErr      string
		wantEpoch    int32
		wantEnd      int64
		wantOldEpoch bool // v0 has no leader epoch in the answer
	}{
		{name: "current epoch ends at the log end", version: 4, topic: "epochs", current: 0, epoch: 0, wantErr: "OK", wantEpoch: 0, wantEnd: 7},
		{name: "unchecked current epoch", version: 4, topic: "epochs", current: -1, epoch: 0, wantErr: "OK", wantEpoch: 0, wantEnd: 7},
		{name: "epoch above any known", version: 4, topic: "epochs", current: -1, epoch: 3, wantErr: "OK", wantEpoch: -1, wantEnd: -1},
		// Its leader recorded epoch 0 at its log end when it took over.
		{name: "empty partition", version: 4, topic: "epochs", partition: 1, current: -1, epoch: 0, wantErr: "OK", wantEpoch: 0, wantEnd: 0},
		{name: "newer current epoch", version: 4, topic: "epochs", current: 2, epoch: 0, wantErr: "UNKNOWN_LEADER_EPOCH", wantEpoch: -1, wantEnd: -1},
		{name: "current epoch ignored before v2", version: 1, topic: "epochs", current: 2, epoch: 0, wantErr: "OK", wantEpoch: 0, wantEnd: 7},
		{name: "v0", version: 0, topic: "epochs", epoch: 0, wantErr: "OK", wantEnd: 7, wantOldEpoch: true},
		{name: "unknown partition", version: 4, topic: "epochs", partition: 9, current: -1, wantErr: "UNKNOWN_TOPIC_OR_PARTITION", wantEpoch: -1, wantEnd: -1},
		{name: "unknown topic", version: 4, topic: "nope", current: -1, wantErr: "UNKNOWN_TOPIC_OR_PARTITION", wantEpoch: -1, wantEnd: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := kmsg.NewPtrOffsetForLeaderEpochRequest()
			rt := kmsg.NewOffsetForLeaderEpochRequestTopic()
			rt.Topic = tt.topic
			rp := kmsg.NewOffsetForLeaderEpochRequestTopicPartition()
			rp.Partition, rp.CurrentLeaderEpoch, rp.LeaderEpoch = tt.partition, tt.current, tt.epoch
			rt.Partitions = append(rt.Partitions, rp)
			req.Topics = append(req.Topics, rt)
			resp := a.requestAt(t, tt.version, req).(*kmsg.OffsetForLeaderEpochResponse)
			sp := resp.Topics[0].Partitions[0]
			if codeName(sp.ErrorCode) != tt.wantErr || sp.EndOffset != tt.wantEnd || (!tt.wantOldEpoch && sp.LeaderEpoch != tt.wantEpoch) {
				t.Fatalf("got %s epoch %d end %d, want %s epoch %d end %d",
					codeName(sp.ErrorCode), sp.LeaderEpoch, sp.EndOffset, tt.wantErr, tt.wantEpoch, tt.wantEnd)
			}
		})
	}

	var r kadm.OffsetForLeaderEpochRequest
	r.Add("epochs", 0, 0)
	res, err := a.adm.OffsetForLeaderEpoch(admCtx(t), r)
	if err != nil {
		t.Fatal(err)
	}
	got := res["epochs"][0]
	if got.Err != nil || got.LeaderEpoch != 0 || got.EndOffset != 7 {
		t.Fatalf("kadm OffsetForLeaderEpoch = %+v", got)
	}
}
