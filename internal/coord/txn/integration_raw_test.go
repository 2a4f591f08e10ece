package txn_test

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"

	"github.com/sluice-io/sluice/internal/batch"
	"github.com/sluice-io/sluice/internal/node"
	"github.com/sluice-io/sluice/internal/node/nodetest"
)

// TestRestartWithOpenTransaction: a node restarted with a transaction
// open reloads it; the coordinator aborts it (its timeout ran out), the
// last stable offset moves on and read_committed consumers never see it.
func TestRestartWithOpenTransaction(t *testing.T) {
	r := nodetest.StartRestartable(t)
	requireTxns(t, r.Node)
	createTopic(t, r.Node, "r", 1)
	txn(t, txnProducer(t, r.Node, "r-commit"), "r", true, values("done", 5)...)
	open := txnProducer(t, r.Node, "r-open", kgo.TransactionTimeout(time.Second))
	ctx := testCtx(t, 30*time.Second)
	if err := open.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := open.ProduceSync(ctx, &kgo.Record{Topic: "r", Value: []byte("open")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if lso := endOffsets(t, r.Node, "r", kgo.ReadCommitted()); lso != 6 {
		t.Fatalf("LSO with the open transaction %d, want 6 (5 records and a marker)", lso)
	}
	n := r.Restart()
	deadline := time.Now().Add(15 * time.Second)
	for {
		lso, hw := endOffsets(t, n, "r", kgo.ReadCommitted()), endOffsets(t, n, "r", kgo.ReadUncommitted())
		if lso == hw && hw > 7 {
			break // the abort marker is in
		}
		if time.Now().After(deadline) {
			t.Fatalf("after restart LSO %d, HW %d: the open transaction was never aborted", lso, hw)
		}
		time.Sleep(20 * time.Millisecond)
	}
	got := readAll(t, n, "r", kgo.ReadCommitted(), -1, time.Second)
	if len(got) != 5 || count(got, "done") != 5 {
		t.Fatalf("read_committed after restart: %v", got)
	}
	waitState(t, nodetest.Admin(t, n), "r-open", "CompleteAbort")
}

// rawClient sends requests at pinned versions.
func rawClient(t *testing.T, n *node.Node, pins map[int16]int16) *kgo.Client {
	v := kversion.Stable()
	for k, max := range pins {
		v.SetMaxKeyVersion(k, max)
	}
	return nodetest.Client(t, n, kgo.MaxVersions(v))
}

func txnBatch(t *testing.T, pid int64, epoch int16, seq int32, value string) []byte {
	info := batch.NewBatchInfo(batch.CodecNone)
	info.Transactional, info.ProducerID, info.ProducerEpoch, info.BaseSequence = true, pid, epoch, seq
	b := batch.NewBuilder(info)
	if err := b.Add(&batch.Record{Timestamp: time.Now().UnixMilli(), Value: []byte(value)}); err != nil {
		t.Fatal(err)
	}
	out, err := b.Build(nil)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func rawProduce(t *testing.T, cl *kgo.Client, id string, topic string, records []byte) int16 {
	t.Helper()
	req := kmsg.NewPtrProduceRequest()
	req.TransactionID, req.Acks, req.TimeoutMillis = &id, -1, 5000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Records = records
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(testCtx(t, 10*time.Second), cl)
	if err != nil {
		t.Fatal(err)
	}
	return resp.Topics[0].Partitions[0].ErrorCode
}

func initPID(t *testing.T, cl *kgo.Client, id string) (int64, int16) {
	t.Helper()
	req := kmsg.NewPtrInitProducerIDRequest()
	req.TransactionalID, req.TransactionTimeoutMillis = &id, 60000
	for {
		resp, err := req.RequestWith(testCtx(t, 10*time.Second), cl)
		if err != nil {
			t.Fatal(err)
		}
		switch resp.ErrorCode {
		case 0:
			return resp.ProducerID, resp.ProducerEpoch
		case kerr.CoordinatorLoadInProgress.Code, kerr.NotCoordinator.Code, kerr.CoordinatorNotAvailable.Code:
			time.Sleep(20 * time.Millisecond)
			continue
		}
		t.Fatalf("init producer id: %v", kerr.ErrorForCode(resp.ErrorCode))
	}
}

// TestProduceVerification: a transactional batch for a partition that is
// not in the producer's transaction is refused (KIP-890 part 1) and
// nothing is written; once added it is accepted.
func TestProduceVerification(t *testing.T) {
	n := startNode(t)
	createTopic(t, n, "v", 1)
	cl := rawClient(t, n, map[int16]int16{0: 11})
	pid, epoch := initPID(t, cl, "tx-verify")
	if code := rawProduce(t, cl, "tx-verify", "v", txnBatch(t, pid, epoch, 0, "stray")); code != kerr.InvalidTxnState.Code {
		t.Fatalf("unverified batch: %v", kerr.ErrorForCode(code))
	}
	if hw := endOffsets(t, n, "v", kgo.ReadUncommitted()); hw != 0 {
		t.Fatalf("the refused batch was written: HW %d", hw)
	}
	add := kmsg.NewPtrAddPartitionsToTxnRequest()
	add.TransactionalID, add.ProducerID, add.ProducerEpoch = "tx-verify", pid, epoch
	at := kmsg.NewAddPartitionsToTxnRequestTopic()
	at.Topic, at.Partitions = "v", []int32{0}
	add.Topics = append(add.Topics, at)
	resp, err := add.RequestWith(testCtx(t, 10*time.Second), cl)
	if err != nil || resp.Topics[0].Partitions[0].ErrorCode != 0 {
		t.Fatalf("add partitions: %+v %v", resp, err)
	}
	if code := rawProduce(t, cl, "tx-verify", "v", txnBatch(t, pid, epoch, 0, "ok")); code != 0 {
		t.Fatalf("verified batch: %v", kerr.ErrorForCode(code))
	}
	if lso := endOffsets(t, n, "v", kgo.ReadCommitted()); lso != 0 {
		t.Fatalf("LSO %d with the transaction open", lso)
	}
}

func endTxn(t *testing.T, cl *kgo.Client, id string, pid int64, epoch int16, commit bool) *kmsg.EndTxnResponse {
	t.Helper()
	req := kmsg.NewPtrEndTxnRequest()
	req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Commit = id, pid, epoch, commit
	resp, err := req.RequestWith(testCtx(t, 10*time.Second), cl)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// TestTransactionsV2Protocol: produce v12 adds the partition to the transaction
// by itself and EndTxn v5 bumps the epoch every time (KIP-890 part 2).
func TestTransactionsV2Protocol(t *testing.T) {
	n := startNode(t)
	createTopic(t, n, "v2", 1)
	cl := rawClient(t, n, map[int16]int16{0: 12})
	pid, epoch := initPID(t, cl, "tx-v2")
	if code := rawProduce(t, cl, "tx-v2", "v2", txnBatch(t, pid, epoch, 0, "first")); code != 0 {
		t.Fatalf("produce v12+: %v", kerr.ErrorForCode(code))
	}
	resp := endTxn(t, cl, "tx-v2", pid, epoch, true)
	if resp.ErrorCode != 0 || resp.ProducerID != pid || resp.ProducerEpoch != epoch+1 {
		t.Fatalf("EndTxn v5 commit: %+v", resp)
	}
	epoch = resp.ProducerEpoch
	if code := rawProduce(t, cl, "tx-v2", "v2", txnBatch(t, pid, epoch, 0, "second")); code != 0 {
		t.Fatalf("produce in the next transaction: %v", kerr.ErrorForCode(code))
	}
	if resp = endTxn(t, cl, "tx-v2", pid, epoch, false); resp.ErrorCode != 0 || resp.ProducerEpoch != epoch+1 {
		t.Fatalf("EndTxn v5 abort: %+v", resp)
	}
	got := readAll(t, n, "v2", kgo.ReadCommitted(), -1, time.Second)
	if len(got) != 1 || got[0] != "first" {
		t.Fatalf("read_committed: %v", got)
	}
	if old := rawProduce(t, cl, "tx-v2", "v2", txnBatch(t, pid, epoch, 1, "zombie")); old == 0 {
		t.Fatal("a batch of the epoch before the abort was accepted")
	}
}

// TestTxnOffsetCommitRequireStable: a transactional offset commit is
// invisible until its transaction commits, and OffsetFetch with
// require_stable answers UNSTABLE_OFFSET_COMMIT meanwhile (KIP-447).
func TestTxnOffsetCommitRequireStable(t *testing.T) {
	n := startNode(t)
	createTopic(t, n, "o", 1)
	cl := rawClient(t, n, nil)
	pid, epoch := initPID(t, cl, "tx-offsets")
	group := "g-offsets"
	// The group coordinator and __consumer_offsets first.
	fc := kmsg.NewPtrFindCoordinatorRequest()
	fc.CoordinatorKey = group
	if _, err := fc.RequestWith(testCtx(t, 10*time.Second), cl); err != nil {
		t.Fatal(err)
	}
	ao := kmsg.NewPtrAddOffsetsToTxnRequest()
	ao.TransactionalID, ao.ProducerID, ao.ProducerEpoch, ao.Group = "tx-offsets", pid, epoch, group
	if resp, err := ao.RequestWith(testCtx(t, 10*time.Second), rawClient(t, n, map[int16]int16{25: 3})); err != nil || resp.ErrorCode != 0 {
		t.Fatalf("add offsets: %+v %v", resp, err)
	}
	tc := kmsg.NewPtrTxnOffsetCommitRequest()
	tc.TransactionalID, tc.Group, tc.ProducerID, tc.ProducerEpoch, tc.Generation = "tx-offsets", group, pid, epoch, -1
	tt := kmsg.NewTxnOffsetCommitRequestTopic()
	tt.Topic = "o"
	tp := kmsg.NewTxnOffsetCommitRequestTopicPartition()
	tp.Partition, tp.Offset = 0, 42
	tt.Partitions = append(tt.Partitions, tp)
	tc.Topics = append(tc.Topics, tt)
	v4 := rawClient(t, n, map[int16]int16{28: 4, 26: 4})
	if resp, err := tc.RequestWith(testCtx(t, 10*time.Second), v4); err != nil || resp.Topics[0].Partitions[0].ErrorCode != 0 {
		t.Fatalf("txn offset commit: %+v %v", resp, err)
	}
	fetch := func(stable bool) (int64, int16) {
		req := kmsg.NewPtrOffsetFetchRequest()
		req.Group, req.RequireStable = group, stable
		rt := kmsg.NewOffsetFetchRequestTopic()
		rt.Topic, rt.Partitions = "o", []int32{0}
		req.Topics = append(req.Topics, rt)
		resp, err := req.RequestWith(testCtx(t, 10*time.Second), rawClient(t, n, map[int16]int16{9: 7}))
		if err != nil || resp.ErrorCode != 0 {
			t.Fatalf("offset fetch: %+v %v", resp, err)
		}
		p := resp.Topics[0].Partitions[0]
		return p.Offset, p.ErrorCode
	}
	if off, code := fetch(true); code != kerr.UnstableOffsetCommit.Code || off != -1 {
		t.Fatalf("require_stable while pending: offset %d, %v", off, kerr.ErrorForCode(code))
	}
	if off, code := fetch(false); code != 0 || off != -1 {
		t.Fatalf("pending offset visible: %d, %v", off, kerr.ErrorForCode(code))
	}
	if resp := endTxn(t, v4, "tx-offsets", pid, epoch, true); resp.ErrorCode != 0 {
		t.Fatalf("commit: %v", kerr.ErrorForCode(resp.ErrorCode))
	}
	if off, code := fetch(true); code != 0 || off != 42 {
		t.Fatalf("after commit: offset %d, %v", off, kerr.ErrorForCode(code))
	}
}
