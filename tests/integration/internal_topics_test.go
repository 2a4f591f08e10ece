package integration

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/batch"
	"github.com/sluice-io/sluice/internal/node/nodetest"
)

// TestInternalTopicsRefuseClientWrites: no client can write, delete,
// trim or resize __consumer_offsets or __transaction_state, and a group's
// committed offset survives every attempt and a restart (issue 13,
// defect 4: a produced garbage value kept every group shard from loading
// after the next restart; DeleteTopics wiped every group).
func TestInternalTopicsRefuseClientWrites(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	r := nodetest.StartRestartable(t)
	adm := kadm.NewClient(nodetest.Client(t, r.Node))
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, "data"); err != nil {
		t.Fatal(err)
	}
	commit := kadm.Offsets{}
	commit.Add(kadm.Offset{Topic: "data", Partition: 0, At: 42, LeaderEpoch: -1})
	if err := adm.CommitAllOffsets(ctx, "g", commit); err != nil {
		t.Fatalf("commit: %v", err)
	}
	// A transactional producer makes the coordinator create
	// __transaction_state.
	txn := nodetest.Client(t, r.Node, kgo.TransactionalID("t1"), kgo.DefaultProduceTopic("data"))
	if err := txn.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := txn.ProduceSync(ctx, &kgo.Record{Value: []byte("x")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if err := txn.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatal(err)
	}

	internal := []string{"__consumer_offsets", "__transaction_state"}
	before, err := adm.ListTopicsWithInternal(ctx, internal...)
	if err != nil {
		t.Fatal(err)
	}
	raw := dial(t, r.Node)
	for _, topic := range internal {
		t.Run(topic, func(t *testing.T) {
			produce := kmsg.NewPtrProduceRequest()
			produce.Acks = -1
			produce.TimeoutMillis = 5000
			pt := kmsg.NewProduceRequestTopic()
			pt.Topic = topic
			pp := kmsg.NewProduceRequestTopicPartition()
			pp.Records = plainBatch([]byte("garbage"))
			pt.Partitions = append(pt.Partitions, pp)
			produce.Topics = append(produce.Topics, pt)
			presp := raw.request(produce, 9).(*kmsg.ProduceResponse)
			if code := presp.Topics[0].Partitions[0].ErrorCode; code != kerr.InvalidTopicException.Code {
				t.Errorf("produce to %s: error %d, want INVALID_TOPIC_EXCEPTION", topic, code)
			}

			dresp, err := adm.DeleteTopics(ctx, topic)
			if err != nil {
				t.Fatal(err)
			}
			if err := dresp[topic].Err; !errors.Is(err, kerr.InvalidTopicException) {
				t.Errorf("delete %s: %v, want INVALID_TOPIC_EXCEPTION", topic, err)
			}

			cresp, err := adm.UpdatePartitions(ctx, 60, topic)
			if err != nil {
				t.Fatal(err)
			}
			if err := cresp[topic].Err; !errors.Is(err, kerr.InvalidTopicException) {
				t.Errorf("create partitions of %s: %v, want INVALID_TOPIC_EXCEPTION", topic, err)
			}

			recs := kadm.Offsets{}
			recs.Add(kadm.Offset{Topic: topic, Partition: 0, At: -1})
			rresp, err := adm.DeleteRecords(ctx, recs)
			if err != nil {
				t.Fatal(err)
			}
			if err := rresp[topic][0].Err; !errors.Is(err, kerr.InvalidTopicException) {
				t.Errorf("delete records of %s: %v, want INVALID_TOPIC_EXCEPTION", topic, err)
			}
		})
	}

	n := r.Restart()
	adm = kadm.NewClient(nodetest.Client(t, n))
	fetched, err := adm.FetchOffsets(ctx, "g")
	if err != nil {
		t.Fatalf("fetch offsets after restart: %v", err)
	}
	if o, ok := fetched.Lookup("data", 0); !ok || o.Err != nil || o.At != 42 {
		t.Fatalf("offset of group g after restart: %+v (found %v), want 42", o, ok)
	}
	topics, err := adm.ListTopicsWithInternal(ctx, internal...)
	if err != nil {
		t.Fatal(err)
	}
	for _, topic := range internal {
		if d, want := topics[topic], len(before[topic].Partitions); d.Err != nil || want == 0 || len(d.Partitions) != want {
			t.Errorf("%s after the attempts: %d partitions, %v; want %d", topic, len(d.Partitions), d.Err, want)
		}
	}
}

// TestCreateTopicsCapsPartitionsPerRequest: a request for more partitions
// than one operation may write (Kafka's 10,000 records) is refused before
// anything is allocated, and the broker keeps serving (issue 13, defect 6:
// num_partitions=2147483647 ran the broker out of memory).
func TestCreateTopicsCapsPartitionsPerRequest(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n := nodetest.Start(t)
	adm := nodetest.Admin(t, n)
	for _, parts := range []int32{2147483647, 10_001} {
		resp, err := adm.CreateTopic(ctx, parts, 1, nil, "huge")
		if err != nil && !errors.Is(err, kerr.PolicyViolation) {
			t.Fatal(err)
		}
		if !errors.Is(resp.Err, kerr.PolicyViolation) {
			t.Errorf("create with %d partitions: %v, want POLICY_VIOLATION", parts, resp.Err)
		}
	}
	if _, err := adm.CreateTopic(ctx, 2, 1, nil, "small"); err != nil {
		t.Fatal(err)
	}
	resp, err := adm.UpdatePartitions(ctx, 2147483647, "small")
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(resp["small"].Err, kerr.PolicyViolation) {
		t.Errorf("create partitions up to 2^31-1: %v, want POLICY_VIOLATION", resp["small"].Err)
	}
	for _, name := range []string{"__cluster_metadata"} {
		resp, _ := adm.CreateTopic(ctx, 1, 1, nil, name)
		if !errors.Is(resp.Err, kerr.InvalidRequest) {
			t.Errorf("create %s: %v, want INVALID_REQUEST", name, resp.Err)
		}
	}
	stillServes(t, n)
}

// plainBatch is a valid uncompressed batch of one record, stamped now.
func plainBatch(value []byte) []byte {
	bl := batch.NewBuilder(batch.NewBatchInfo(batch.CodecNone))
	if err := bl.Add(&batch.Record{Timestamp: time.Now().UnixMilli(), Value: value}); err != nil {
		panic(err)
	}
	b, err := bl.Build(nil)
	if err != nil {
		panic(err)
	}
	return b
}
