package handler_test

// Idempotent produce end to end: franz-go's default (idempotent) producer,
// raw retried requests, fencing, and restarts.

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/batch"
	"github.com/sluice-io/sluice/internal/node/nodetest"
)

// initProducerID asks broker 1 for a producer id (epoch 0).
func (a *admNode) initProducerID(t *testing.T) int64 {
	t.Helper()
	req := kmsg.NewPtrInitProducerIDRequest()
	resp := a.request(t, req).(*kmsg.InitProducerIDResponse)
	if resp.ErrorCode != 0 {
		t.Fatalf("init producer id: %s", codeName(resp.ErrorCode))
	}
	return resp.ProducerID
}

// idempotentProduce is a Produce request (acks=all) of one batch of n
// records from pid at epoch, base sequence seq.
func idempotentProduce(t *testing.T, topic string, partition int32, pid int64, epoch int16, seq int32, n int) *kmsg.ProduceRequest {
	t.Helper()
	info := batch.NewBatchInfo(batch.CodecNone)
	info.ProducerID, info.ProducerEpoch, info.BaseSequence = pid, epoch, seq
	bld := batch.NewBuilder(info)
	now := time.Now().UnixMilli()
	for i := range n {
		if err := bld.Add(&batch.Record{Timestamp: now, Value: []byte(strconv.Itoa(int(seq) + i))}); err != nil {
			t.Fatal(err)
		}
	}
	records, err := bld.Build(nil)
	if err != nil {
		t.Fatal(err)
	}
	req := kmsg.NewPtrProduceRequest()
	req.Acks, req.TimeoutMillis = -1, 10000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Partition, rp.Records = partition, records
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return req
}

// produceIdempotent sends one idempotent batch and returns the
// partition's answer.
func (a *admNode) produceIdempotent(t *testing.T, topic string, partition int32, pid int64, epoch int16, seq int32, n int) kmsg.ProduceResponseTopicPartition {
	t.Helper()
	return sendProduce(t, a, idempotentProduce(t, topic, partition, pid, epoch, seq, n))
}

func sendProduce(t *testing.T, a *admNode, req *kmsg.ProduceRequest) kmsg.ProduceResponseTopicPartition {
	t.Helper()
	resp := a.requestAt(t, 9, req).(*kmsg.ProduceResponse)
	return resp.Topics[0].Partitions[0]
}

// endOffset is the partition's log end offset.
func (a *admNode) endOffset(t *testing.T, topic string, partition int32) int64 {
	t.Helper()
	ends, err := a.adm.ListEndOffsets(admCtx(t), topic)
	if err != nil {
		t.Fatal(err)
	}
	o, _ := ends.Lookup(topic, partition)
	return o.Offset
}

// TestProduceRetryStoredOnce: the same Produce sent twice (a retry after
// a lost response) is stored once and both answers carry the same base
// offset.
func TestProduceRetryStoredOnce(t *testing.T) {
	a := startAdmin(t)
	a.createTopic(t, "retry", 1, nil)
	a.produce(t, "retry", 0, 2) // a plain producer first: offsets 0, 1
	pid := a.initProducerID(t)
	req := idempotentProduce(t, "retry", 0, pid, 0, 0, 4)
	first := sendProduce(t, a, req)
	if first.ErrorCode != 0 || first.BaseOffset != 2 {
		t.Fatalf("first: %s at %d, want OK at 2", codeName(first.ErrorCode), first.BaseOffset)
	}
	second := sendProduce(t, a, req)
	if second.ErrorCode != 0 || second.BaseOffset != first.BaseOffset {
		t.Fatalf("retry: %s at %d, want OK at %d", codeName(second.ErrorCode), second.BaseOffset, first.BaseOffset)
	}
	if end := a.endOffset(t, "retry", 0); end != 6 {
		t.Fatalf("log end %d after a retry, want 6", end)
	}
	if r := a.produceIdempotent(t, "retry", 0, pid, 0, 4, 1); r.ErrorCode != 0 || r.BaseOffset != 6 {
		t.Fatalf("next batch: %s at %d, want OK at 6", codeName(r.ErrorCode), r.BaseOffset)
	}
}

// TestProduceSequenceAndEpochErrors: gaps, old epochs and bad sequences
// are refused per partition with Kafka's codes and a message.
func TestProduceSequenceAndEpochErrors(t *testing.T) {
	a := startAdmin(t)
	a.createTopic(t, "fence", 1, nil)
	pid := a.initProducerID(t)
	steps := []struct {
		epoch    int16
		seq      int32
		wantCode int16
	}{
		{1, 0, 0},
		{1, 2, 45},  // gap: OUT_OF_ORDER_SEQUENCE_NUMBER
		{0, 1, 47},  // old epoch: INVALID_PRODUCER_EPOCH
		{2, 5, 45},  // new epoch must start at 0
		{2, 0, 0},   // epoch bump
		{1, 1, 47},  // the old epoch is fenced for good
		{2, -1, 87}, // INVALID_RECORD
	}
	for i, s := range steps {
		r := a.produceIdempotent(t, "fence", 0, pid, s.epoch, s.seq, 1)
		if r.ErrorCode != s.wantCode {
			t.Fatalf("step %d: %s, want %s", i, codeName(r.ErrorCode), codeName(s.wantCode))
		}
		if s.wantCode != 0 && (r.ErrorMessage == nil || *r.ErrorMessage == "") {
			t.Fatalf("step %d: no error message", i)
		}
	}
	if end := a.endOffset(t, "fence", 0); end != 2 {
		t.Fatalf("log end %d, want 2", end)
	}
}

// TestIdempotentProducerExactlyOnce: franz-go's default idempotent
// producer writes 100k records to 3 partitions; each arrives once, in
// order. (kgo refuses MaxProduceRequestsInflightPerBroker with
// idempotence: it keeps 5 requests in flight by itself against brokers
// from Kafka 1.0 on, which is what this broker advertises.)
func TestIdempotentProducerExactlyOnce(t *testing.T) {
	const total, parts = 100_000, 3
	a := startAdmin(t)
	a.createTopic(t, "eo", parts, nil)
	cl := nodetest.Client(t, a.n, kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerLinger(time.Millisecond), kgo.ProducerBatchMaxBytes(8<<10)) // many small batches in flight
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var failed atomic.Int64
	for i := range total {
		r := &kgo.Record{Topic: "eo", Partition: int32(i % parts), Value: []byte(strconv.Itoa(i))}
		cl.Produce(ctx, r, func(_ *kgo.Record, err error) {
			if err != nil {
				failed.Add(1)
			}
		})
	}
	if err := cl.Flush(ctx); err != nil || failed.Load() != 0 {
		t.Fatalf("produce: %v, %d records failed", err, failed.Load())
	}
	offsets := map[string]map[int32]kgo.Offset{"eo": {}}
	for p := range parts {
		offsets["eo"][int32(p)] = kgo.NewOffset().AtStart()
	}
	consumer := nodetest.Client(t, a.n, kgo.ConsumePartitions(offsets), kgo.FetchMaxWait(100*time.Millisecond))
	next := [parts]int{0, 1, 2} // the value expected next in each partition
	for seen := 0; seen < total; {
		fs := consumer.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consumed %d of %d: %v", seen, total, err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			v, _ := strconv.Atoi(string(r.Value))
			if v != next[r.Partition] {
				t.Fatalf("partition %d offset %d: value %d, want %d (lost, duplicated or reordered)", r.Partition, r.Offset, v, next[r.Partition])
			}
			next[r.Partition] += parts
			seen++
		})
	}
	for p := range parts {
		if end := a.endOffset(t, "eo", int32(p)); end != total/parts+boolInt(p < total%parts) {
			t.Fatalf("partition %d ends at %d", p, end)
		}
	}
	// The batches really came from one idempotent producer.
	req := kmsg.NewPtrDescribeProducersRequest()
	rt := kmsg.NewDescribeProducersRequestTopic()
	rt.Topic, rt.Partitions = "eo", []int32{0, 1, 2}
	req.Topics = append(req.Topics, rt)
	resp := a.request(t, req).(*kmsg.DescribeProducersResponse)
	for _, p := range resp.Topics[0].Partitions {
		if len(p.ActiveProducers) != 1 || p.ActiveProducers[0].LastSequence != int32(next[p.Partition]/parts-1) {
			t.Fatalf("partition %d producers: %+v", p.Partition, p.ActiveProducers)
		}
	}
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// TestProducerStateSurvivesRestart: after a broker restart a retry of an
// already stored batch is still recognized, and the sequence goes on.
func TestProducerStateSurvivesRestart(t *testing.T) {
	r := nodetest.StartRestartable(t)
	a := adminFor(t, r)
	a.createTopic(t, "restart", 1, nil)
	pid := a.initProducerID(t)
	reqs := make([]*kmsg.ProduceRequest, 3)
	for i := range reqs {
		reqs[i] = idempotentProduce(t, "restart", 0, pid, 0, int32(2*i), 2)
		if resp := sendProduce(t, a, reqs[i]); resp.ErrorCode != 0 {
			t.Fatalf("produce %d: %s", i, codeName(resp.ErrorCode))
		}
	}
	r.Restart()
	a = adminFor(t, r)
	for i, req := range reqs {
		if resp := sendProduce(t, a, req); resp.ErrorCode != 0 || resp.BaseOffset != int64(2*i) {
			t.Fatalf("retry %d after restart: %s at %d, want OK at %d", i, codeName(resp.ErrorCode), resp.BaseOffset, 2*i)
		}
	}
	if resp := a.produceIdempotent(t, "restart", 0, pid, 0, 7, 1); resp.ErrorCode != 45 {
		t.Fatalf("gap after restart: %s, want OUT_OF_ORDER_SEQUENCE_NUMBER", codeName(resp.ErrorCode))
	}
	if resp := a.produceIdempotent(t, "restart", 0, pid, 0, 6, 1); resp.ErrorCode != 0 || resp.BaseOffset != 6 {
		t.Fatalf("next after restart: %s at %d", codeName(resp.ErrorCode), resp.BaseOffset)
	}
	if next := a.initProducerID(t); next == pid {
		t.Fatalf("producer id %d handed out twice across a restart", pid)
	}
}

// adminFor wraps the running node of r like startAdmin does.
func adminFor(t *testing.T, r *nodetest.Restartable) *admNode {
	t.Helper()
	cl := nodetest.Client(t, r.Node, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	return &admNode{n: r.Node, cl: cl, adm: kadm.NewClient(cl)}
}
