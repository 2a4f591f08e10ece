package node_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"

	"github.com/sluice-io/sluice/internal/batch"
	"github.com/sluice-io/sluice/internal/coord/txn"
	"github.com/sluice-io/sluice/internal/model"
	"github.com/sluice-io/sluice/internal/node"
	"github.com/sluice-io/sluice/internal/node/nodetest"
)

// Under transactions v2 every transaction has an epoch of its own, and
// EndTxn may answer before every marker is written (CompletionWait ran
// out: here a partition below its min ISR takes no marker). The next
// transaction's first batch can then reach a partition where the
// previous transaction is still open. It must be refused with a
// retriable error until the marker is in, not join the open transaction
// and share its outcome (found by the fault suite: a committed
// transaction whose record on one partition had joined the aborted
// transaction before it, missing from the final read_committed read).
func TestNextTransactionWaitsForThePreviousMarker(t *testing.T) {
	fast := func(o *node.Options) {
		o.SessionTimeout = time.Minute // this test is about the ISR, not fencing
		o.Txns.CompletionWait = 100 * time.Millisecond
	}
	voter := nodetest.Start(t, shortLag, asVoter, fast)
	follower := nodetest.StartRestartable(t, shortLag, fast, following(voter, 2))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := createAssigned(ctx, t, voter, "nx", []int32{1, 2}); err != nil {
		t.Fatal(err)
	}
	setTopicConfig(ctx, t, voter, "nx", "min.insync.replicas", "2")
	v := kversion.Stable()
	v.SetMaxKeyVersion(0, 12) // produce v12, EndTxn v5: transactions v2
	// acks=1 (the client sets every raw produce's acks): a partition
	// below its min ISR still takes the batches.
	cl := nodetest.Client(t, voter, kgo.MaxVersions(v), kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite())
	id := coordinatedBy(ctx, t, voter, 1, cl)
	pid, epoch := initProducer(ctx, t, cl, id)

	for code := int16(-1); code != 0; {
		code = produceTxn(ctx, t, cl, id, pid, epoch, "aborted")
		if err := kerr.ErrorForCode(code); err != nil && (!kerr.IsRetriable(err) || ctx.Err() != nil) {
			t.Fatalf("the first transaction's batch: %v", err)
		}
		time.Sleep(20 * time.Millisecond) // the new partition's leader starts: nothing tells the client
	}
	follower.Stop()
	awaitISR(ctx, t, voter, "nx", []model.NodeID{1}) // below min ISR: no marker goes in
	resp := endTxn(ctx, t, cl, id, pid, epoch, false)
	if resp.ErrorCode != 0 || resp.ProducerEpoch != epoch+1 {
		t.Fatalf("EndTxn abort: %v, epoch %d", kerr.ErrorForCode(resp.ErrorCode), resp.ProducerEpoch)
	}
	epoch = resp.ProducerEpoch
	if code := produceTxn(ctx, t, cl, id, pid, epoch, "next"); code != kerr.NotEnoughReplicas.Code {
		t.Fatalf("the next transaction's batch before the previous marker: %v, want NOT_ENOUGH_REPLICAS (retriable)",
			kerr.ErrorForCode(code))
	}

	setTopicConfig(ctx, t, voter, "nx", "min.insync.replicas", "1") // the abort's marker goes in
	for {
		code := produceTxn(ctx, t, cl, id, pid, epoch, "next")
		if code == 0 {
			break
		}
		if code != kerr.NotEnoughReplicas.Code || ctx.Err() != nil {
			t.Fatalf("the next transaction's batch after the marker: %v", kerr.ErrorForCode(code))
		}
		time.Sleep(20 * time.Millisecond) // the coordinator's marker retry: nothing tells the client
	}
	if resp := endTxn(ctx, t, cl, id, pid, epoch, true); resp.ErrorCode != 0 {
		t.Fatalf("EndTxn commit: %v", kerr.ErrorForCode(resp.ErrorCode))
	}
	rc := nodetest.Client(t, voter, kgo.ConsumeTopics("nx"), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	var got []string
	for len(got) == 0 {
		fs := rc.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("read_committed read nothing: %v", err)
		}
		fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	if len(got) != 1 || got[0] != "next" {
		t.Fatalf("read_committed: %v, want [next]", got)
	}
}

// coordinatedBy returns a transactional id whose coordinator is n (the
// test stops the other node).
func coordinatedBy(ctx context.Context, t *testing.T, n *node.Node, nodeID model.NodeID, cl *kgo.Client) string {
	t.Helper()
	for {
		req := kmsg.NewPtrFindCoordinatorRequest()
		req.CoordinatorType, req.CoordinatorKeys = 1, []string{"probe"}
		if _, err := req.RequestWith(ctx, cl); err != nil {
			t.Fatal(err)
		}
		if st := n.Metadata().Current().Topics[model.TransactionStateTopic]; st != nil {
			for i := range 100 {
				id := fmt.Sprintf("tx-%d", i)
				if st.Partitions[txn.Partition(id, int32(len(st.Partitions)))].Leader == nodeID {
					return id
				}
			}
			t.Fatal("no transactional id of 100 is coordinated by the node")
		}
		if ctx.Err() != nil {
			t.Fatal("no __transaction_state")
		}
		time.Sleep(20 * time.Millisecond) // created by the first FindCoordinator, asynchronously
	}
}

func initProducer(ctx context.Context, t *testing.T, cl *kgo.Client, id string) (int64, int16) {
	t.Helper()
	for {
		req := kmsg.NewPtrInitProducerIDRequest()
		req.TransactionalID, req.TransactionTimeoutMillis = &id, 60000
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			t.Fatal(err)
		}
		switch err := kerr.ErrorForCode(resp.ErrorCode); {
		case err == nil:
			return resp.ProducerID, resp.ProducerEpoch
		case kerr.IsRetriable(err) && ctx.Err() == nil:
			time.Sleep(20 * time.Millisecond) // the coordinator loads: nothing tells the client
		default:
			t.Fatalf("InitProducerId: %v", err)
		}
	}
}

// produceTxn produces one transactional record to nx.
func produceTxn(ctx context.Context, t *testing.T, cl *kgo.Client, id string, pid int64, epoch int16, value string) int16 {
	t.Helper()
	info := batch.NewBatchInfo(batch.CodecNone)
	info.Transactional, info.ProducerID, info.ProducerEpoch, info.BaseSequence = true, pid, epoch, 0
	b := batch.NewBuilder(info)
	if err := b.Add(&batch.Record{Timestamp: time.Now().UnixMilli(), Value: []byte(value)}); err != nil {
		t.Fatal(err)
	}
	records, err := b.Build(nil)
	if err != nil {
		t.Fatal(err)
	}
	req := kmsg.NewPtrProduceRequest()
	req.TransactionID, req.TimeoutMillis = &id, 5000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = "nx"
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Records = records
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	return resp.Topics[0].Partitions[0].ErrorCode
}

func endTxn(ctx context.Context, t *testing.T, cl *kgo.Client, id string, pid int64, epoch int16, commit bool) *kmsg.EndTxnResponse {
	t.Helper()
	req := kmsg.NewPtrEndTxnRequest()
	req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Commit = id, pid, epoch, commit
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func setTopicConfig(ctx context.Context, t *testing.T, n *node.Node, topic, key, value string) {
	t.Helper()
	rs, err := nodetest.Admin(t, n).AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: key, Value: &value}}, topic)
	if err == nil {
		_, err = rs.On(topic, nil)
	}
	if err != nil {
		t.Fatalf("set %s=%s on %s: %v", key, value, topic, err)
	}
}
