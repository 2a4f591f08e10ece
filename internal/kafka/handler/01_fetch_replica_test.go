package handler_test

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"

	"github.com/sluice-io/sluice/internal/model"
	"github.com/sluice-io/sluice/internal/node/nodetest"
	"github.com/sluice-io/sluice/internal/replica"
	"github.com/sluice-io/sluice/internal/storage/storagetest"
)

// replicated makes broker 1 lead a fresh one-partition topic with a
// second replica, broker 2, that exists only as the fetches these tests
// send (the image still says RF 1; no later image change may come, or
// it would make the partition RF 1 again). It returns the partition.
func replicated(t *testing.T, a *admNode, topic string, isr []model.NodeID, epoch model.LeaderEpoch) *replica.Partition {
	t.Helper()
	a.createTopic(t, topic, 1, nil)
	p := a.n.Partition(model.TopicPartition{Topic: topic, Partition: 0})
	if _, err := p.MakeLeader(replica.LeaderState{Local: 1, LeaderEpoch: epoch, PartitionEpoch: 1 << 20,
		Replicas: []model.NodeID{1, 2}, ISR: isr}, time.Now().UnixMilli()); err != nil {
		t.Fatal(err)
	}
	return p
}

// produceAcks1 writes n records with acks=1.
func produceAcks1(t *testing.T, a *admNode, topic string, n int) {
	t.Helper()
	cl := nodetest.Client(t, a.n, kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite(),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	for range n {
		if err := cl.ProduceSync(admCtx(t), &kgo.Record{Topic: topic, Value: []byte("v")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
}

// oneFetch is a one-partition fetch; replicaID -1 is a consumer.
type oneFetch struct {
	replicaID         int32
	offset            int64
	current, lastSeen int32
}

// produceOne sends one batch of one record to p with acks, as is.
func (a *admNode) produceOne(t *testing.T, p *replica.Partition, acks int16) kmsg.ProduceResponseTopicPartition {
	t.Helper()
	req := kmsg.NewPtrProduceRequest()
	req.Acks, req.TimeoutMillis = acks, 5000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic, rt.TopicID = p.TP.Topic, p.TopicID
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Partition, rp.Records = p.TP.Partition, storagetest.Batch(1, 8, time.Now().UnixMilli())
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return a.request(t, req).(*kmsg.ProduceResponse).Topics[0].Partitions[0]
}

// fetchOne sends a v15 fetch (replica_state, topics by id) for partition
// 0 of topic.
func (a *admNode) fetchOne(t *testing.T, topic string, f oneFetch) kmsg.FetchResponseTopicPartition {
	t.Helper()
	if a.fetcher == nil {
		vs := kversion.Tip()
		vs.SetMaxKeyVersion(1, 15)
		a.fetcher = nodetest.Client(t, a.n, kgo.MaxVersions(vs))
	}
	req := kmsg.NewPtrFetchRequest()
	req.ReplicaState.ID, req.ReplicaState.Epoch = f.replicaID, 1
	req.MaxWaitMillis, req.MinBytes, req.MaxBytes = 0, 1, 1<<20
	rt := kmsg.NewFetchRequestTopic()
	rt.TopicID = a.n.Partition(model.TopicPartition{Topic: topic, Partition: 0}).TopicID
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.FetchOffset, rp.CurrentLeaderEpoch, rp.LastFetchedEpoch, rp.PartitionMaxBytes = f.offset, f.current, f.lastSeen, 1<<20
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := a.fetcher.Broker(1).Request(admCtx(t), req)
	if err != nil {
		t.Fatal(err)
	}
	if v := resp.GetVersion(); v != 15 {
		t.Fatalf("fetch sent at v%d", v)
	}
	return resp.(*kmsg.FetchResponse).Topics[0].Partitions[0]
}

// A follower reads past the high watermark; its next fetch offset moves
// the HW, which consumers then read up to. A consumer fetch between the
// HW and the log end reads nothing (not OFFSET_OUT_OF_RANGE), past the
// log end it is out of range.
func TestReplicaFetchReadsPastHW(t *testing.T) {
	a := startAdmin(t)
	replicated(t, a, "rep", []model.NodeID{1, 2}, 0)
	produceAcks1(t, a, "rep", 5)

	c := a.fetchOne(t, "rep", oneFetch{replicaID: -1, current: -1, lastSeen: -1})
	if codeName(c.ErrorCode) != "OK" || c.HighWatermark != 0 || len(c.RecordBatches) != 0 {
		t.Fatalf("consumer before replication: %s HW %d %d bytes", codeName(c.ErrorCode), c.HighWatermark, len(c.RecordBatches))
	}
	for _, off := range []int64{3, 5} {
		c = a.fetchOne(t, "rep", oneFetch{replicaID: -1, offset: off, current: -1, lastSeen: -1})
		if codeName(c.ErrorCode) != "OK" || len(c.RecordBatches) != 0 {
			t.Fatalf("consumer at %d (HW 0, log end 5): %s %d bytes", off, codeName(c.ErrorCode), len(c.RecordBatches))
		}
	}
	if c = a.fetchOne(t, "rep", oneFetch{replicaID: -1, offset: 6, current: -1, lastSeen: -1}); codeName(c.ErrorCode) != "OFFSET_OUT_OF_RANGE" {
		t.Fatalf("consumer past the log end: %s", codeName(c.ErrorCode))
	}
	f := a.fetchOne(t, "rep", oneFetch{replicaID: 2, current: 0, lastSeen: -1})
	if codeName(f.ErrorCode) != "OK" || len(f.RecordBatches) == 0 || f.HighWatermark != 0 {
		t.Fatalf("follower fetch: %s HW %d %d bytes", codeName(f.ErrorCode), f.HighWatermark, len(f.RecordBatches))
	}
	f = a.fetchOne(t, "rep", oneFetch{replicaID: 2, offset: 5, current: 0, lastSeen: 0})
	if codeName(f.ErrorCode) != "OK" || f.HighWatermark != 0 {
		t.Fatalf("follower at the log end: %s HW %d (the answer carries the HW before its offset counted)", codeName(f.ErrorCode), f.HighWatermark)
	}
	c = a.fetchOne(t, "rep", oneFetch{replicaID: -1, current: -1, lastSeen: -1})
	if codeName(c.ErrorCode) != "OK" || c.HighWatermark != 5 || len(c.RecordBatches) == 0 {
		t.Fatalf("consumer after replication: %s HW %d %d bytes", codeName(c.ErrorCode), c.HighWatermark, len(c.RecordBatches))
	}
}

// A follower whose last fetched epoch ended earlier on the leader (or is
// unknown to it) is told where the logs diverge, with no records.
func TestReplicaFetchAnswersDivergingEpoch(t *testing.T) {
	a := startAdmin(t)
	p := replicated(t, a, "div", []model.NodeID{1, 2}, 0)
	produceAcks1(t, a, "div", 5)
	if _, err := p.MakeLeader(replica.LeaderState{Local: 1, LeaderEpoch: 2, PartitionEpoch: 1<<20 + 1,
		Replicas: []model.NodeID{1, 2}, ISR: []model.NodeID{1, 2}}, time.Now().UnixMilli()); err != nil {
		t.Fatal(err)
	}
	// The follower wrote offsets 5-6 at epoch 1, which the leader never had.
	f := a.fetchOne(t, "div", oneFetch{replicaID: 2, offset: 7, current: 2, lastSeen: 1})
	if codeName(f.ErrorCode) != "OK" || f.DivergingEpoch.Epoch != 0 || f.DivergingEpoch.EndOffset != 5 || len(f.RecordBatches) != 0 {
		t.Fatalf("diverged follower: %s diverging %+v %d bytes, want epoch 0 ending at 5",
			codeName(f.ErrorCode), f.DivergingEpoch, len(f.RecordBatches))
	}
	// A follower that agrees fetches normally.
	f = a.fetchOne(t, "div", oneFetch{replicaID: 2, offset: 5, current: 2, lastSeen: 0})
	if codeName(f.ErrorCode) != "OK" || f.DivergingEpoch.Epoch != -1 {
		t.Fatalf("follower in line: %s diverging %+v", codeName(f.ErrorCode), f.DivergingEpoch)
	}
	if f = a.fetchOne(t, "div", oneFetch{replicaID: 2, offset: 5, current: 1, lastSeen: 0}); codeName(f.ErrorCode) != "FENCED_LEADER_EPOCH" {
		t.Fatalf("follower at an old epoch: %s", codeName(f.ErrorCode))
	}
}

func TestReplicaFetchFromUnknownReplica(t *testing.T) {
	a := startAdmin(t)
	replicated(t, a, "unk", []model.NodeID{1, 2}, 0)
	if f := a.fetchOne(t, "unk", oneFetch{replicaID: 3, current: 0, lastSeen: -1}); codeName(f.ErrorCode) != "UNKNOWN_LEADER_EPOCH" {
		t.Fatalf("broker 3 with a current epoch: %s, want UNKNOWN_LEADER_EPOCH", codeName(f.ErrorCode))
	}
	if f := a.fetchOne(t, "unk", oneFetch{replicaID: 3, current: -1, lastSeen: -1}); codeName(f.ErrorCode) != "NOT_LEADER_FOR_PARTITION" {
		t.Fatalf("broker 3 without one: %s, want NOT_LEADER_OR_FOLLOWER", codeName(f.ErrorCode))
	}
}

// acks=all is answered once the follower's fetch shows it has the batch;
// with the ISR under min.insync.replicas it is refused before the append.
func TestAcksAllWaitsForReplicaFetch(t *testing.T) {
	a := startAdmin(t)
	replicated(t, a, "acks", []model.NodeID{1, 2}, 0)
	cl := nodetest.Client(t, a.n, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	done := make(chan error, 1)
	go func() {
		done <- cl.ProduceSync(context.Background(), &kgo.Record{Topic: "acks", Value: []byte("v")}).FirstErr()
	}()
	// Fetch as the follower until it holds the batch (its first fetch may
	// come before the produce).
	deadline := time.Now().Add(10 * time.Second)
	for off := int64(0); off == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the produce never reached the log")
		}
		f := a.fetchOne(t, "acks", oneFetch{replicaID: 2, offset: 0, current: 0, lastSeen: -1})
		if len(f.RecordBatches) > 0 {
			off = 1
		}
	}
	select {
	case err := <-done:
		t.Fatalf("acks=all answered (%v) before the follower reported the batch", err)
	default:
	}
	a.fetchOne(t, "acks", oneFetch{replicaID: 2, offset: 1, current: 0, lastSeen: 0})
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("acks=all not answered after the follower's fetch")
	}

	p := replicated(t, a, "few", []model.NodeID{1}, 0)
	p.SetConfig(func() replica.Config { c := *p.Config(); c.MinInsyncReplicas = 2; return c }())
	if code := codeName(a.produceOne(t, p, -1).ErrorCode); code != "NOT_ENOUGH_REPLICAS" || p.LogEndOffset() != 0 {
		t.Fatalf("acks=all with ISR {1}, min ISR 2: %s, log end %d", code, p.LogEndOffset())
	}
}

// ListOffsets answers a follower's "latest" with the log end, a
// consumer's with the high watermark.
func TestListOffsetsLatestForFollower(t *testing.T) {
	a := startAdmin(t)
	replicated(t, a, "lo", []model.NodeID{1, 2}, 0)
	produceAcks1(t, a, "lo", 3)
	for _, tt := range []struct {
		replica int32
		want    int64
	}{{-1, 0}, {2, 3}, {-2, 3}} {
		req := kmsg.NewPtrListOffsetsRequest()
		req.ReplicaID = tt.replica
		rt := kmsg.NewListOffsetsRequestTopic()
		rt.Topic = "lo"
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Timestamp = -1
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		sp := a.request(t, req).(*kmsg.ListOffsetsResponse).Topics[0].Partitions[0]
		if codeName(sp.ErrorCode) != "OK" || sp.Offset != tt.want {
			t.Fatalf("replica %d: %s offset %d, want %d", tt.replica, codeName(sp.ErrorCode), sp.Offset, tt.want)
		}
	}
}

// A replica this broker only follows serves no client: fetch, list
// offsets and produce answer NOT_LEADER_OR_FOLLOWER, even while the
// image this broker has not caught up with still names it leader.
func TestFollowerReplicaRefusesClients(t *testing.T) {
	a := startAdmin(t)
	p := replicated(t, a, "fol", []model.NodeID{1, 2}, 0)
	produceAcks1(t, a, "fol", 2)
	p.MakeFollower(replica.FollowerState{LeaderEpoch: 1, PartitionEpoch: 1<<20 + 1}, time.Now().UnixMilli())

	if f := a.fetchOne(t, "fol", oneFetch{replicaID: -1, current: -1, lastSeen: -1}); codeName(f.ErrorCode) != "NOT_LEADER_FOR_PARTITION" {
		t.Fatalf("consumer fetch: %s", codeName(f.ErrorCode))
	}
	lo := kmsg.NewPtrListOffsetsRequest()
	lt := kmsg.NewListOffsetsRequestTopic()
	lt.Topic = "fol"
	lt.Partitions = append(lt.Partitions, kmsg.NewListOffsetsRequestTopicPartition())
	lo.Topics = append(lo.Topics, lt)
	if sp := a.request(t, lo).(*kmsg.ListOffsetsResponse).Topics[0].Partitions[0]; codeName(sp.ErrorCode) != "NOT_LEADER_FOR_PARTITION" {
		t.Fatalf("list offsets: %s", codeName(sp.ErrorCode))
	}
	if sp := a.produceOne(t, p, 1); codeName(sp.ErrorCode) != "NOT_LEADER_FOR_PARTITION" || p.LogEndOffset() != 2 {
		t.Fatalf("produce: %s, log end %d", codeName(sp.ErrorCode), p.LogEndOffset())
	}
}
