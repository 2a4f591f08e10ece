package node_test

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/model"
	"github.com/sluice-io/sluice/internal/node/nodetest"
)

// A consumer's fetch waiting on a replicated partition completes when the
// high watermark passes new records, not at its max wait: the append
// wakes it while the records are not committed yet, and the follower's
// next fetch, which commits them, must wake it again.
func TestCommitWakesWaitingFetch(t *testing.T) {
	voter := nodetest.Start(t, asVoter)
	broker := nodetest.Start(t, following(voter, 2))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cl := nodetest.Client(t, broker, kgo.DefaultProduceTopic("wake"))
	// Led by broker 2, followed by 1; a new topic's ISR is all its
	// replicas, so the leader's HW waits for the follower from the first
	// record.
	if err := createAssigned(ctx, t, voter, "wake", []int32{2, 1}); err != nil {
		t.Fatal(err)
	}
	waitIndex(ctx, t, broker.Metadata(), voter.Metadata().Current().Index)
	tp := model.TopicPartition{Topic: "wake", Partition: 0}
	const maxWait = 20 * time.Second
	raw := nodetest.Dial(t, broker)
	req := kmsg.NewPtrFetchRequest()
	req.ReplicaID, req.MaxWaitMillis, req.MinBytes, req.MaxBytes = -1, int32(maxWait/time.Millisecond), 1, 1<<20
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic = tp.Topic
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.Partition, rp.FetchOffset, rp.PartitionMaxBytes, rp.CurrentLeaderEpoch = 0, 0, 1<<20, -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	raw.Send(req, 12)
	// The fetch is parked before the record comes: nothing is there yet.
	if raw.Closed(200 * time.Millisecond) {
		t.Fatal("the leader closed the fetch connection")
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte("v")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	acked := time.Now()
	resp := raw.Read(req, 12).(*kmsg.FetchResponse)
	waited := time.Since(acked)
	sp := resp.Topics[0].Partitions[0]
	if err := kerr.ErrorForCode(sp.ErrorCode); err != nil {
		t.Fatal(err)
	}
	if len(sp.RecordBatches) == 0 || sp.HighWatermark != 1 {
		t.Fatalf("fetch answered HW %d with %d bytes after %v", sp.HighWatermark, len(sp.RecordBatches), waited)
	}
	if waited > maxWait/2 {
		t.Fatalf("the fetch answered %v after the record was acknowledged: the commit did not wake it", waited)
	}
}
