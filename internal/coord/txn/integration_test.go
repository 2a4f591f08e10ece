package txn_test

// End-to-end tests: a real node (internal/node/nodetest) and franz-go
// transactional producers and read_committed consumers, the way
// applications use transactions.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/node"
	"github.com/sluice-io/sluice/internal/node/nodetest"
)

func testCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// startNode starts a node and skips the test when the node has no
// transaction coordinator wired in.
func startNode(t *testing.T, mods ...func(*node.Options)) *node.Node {
	t.Helper()
	n := nodetest.Start(t, mods...)
	requireTxns(t, n)
	return n
}

func requireTxns(t *testing.T, n *node.Node) {
	t.Helper()
	req := kmsg.NewPtrFindCoordinatorRequest()
	req.CoordinatorType, req.CoordinatorKeys = 1, []string{"probe"}
	resp, err := req.RequestWith(testCtx(t, 10*time.Second), nodetest.Client(t, n))
	if err != nil {
		t.Fatal(err)
	}
	if c := resp.Coordinators[0]; c.ErrorCode == kerr.CoordinatorNotAvailable.Code {
		t.Skip("the node has no transaction coordinator wired in")
	}
}

func createTopic(t *testing.T, n *node.Node, topic string, partitions int32) {
	t.Helper()
	if _, err := nodetest.Admin(t, n).CreateTopic(testCtx(t, 10*time.Second), partitions, 1, nil, topic); err != nil {
		t.Fatalf("create topic: %v", err)
	}
}

func txnProducer(t *testing.T, n *node.Node, id string, opts ...kgo.Opt) *kgo.Client {
	return nodetest.Client(t, n, append([]kgo.Opt{kgo.TransactionalID(id), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()),
		kgo.TransactionTimeout(10 * time.Second)}, opts...)...)
}

// txn runs one transaction of the given values and commits or aborts it.
func txn(t *testing.T, cl *kgo.Client, topic string, commit bool, values ...string) {
	t.Helper()
	ctx := testCtx(t, 20*time.Second)
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	for _, v := range values {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte(v)}).FirstErr(); err != nil {
			t.Fatalf("produce %s: %v", v, err)
		}
	}
	if err := cl.EndTransaction(ctx, kgo.TransactionEndTry(commit)); err != nil {
		t.Fatalf("end transaction (commit %v): %v", commit, err)
	}
}

func values(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%d", prefix, i)
	}
	return out
}

// readAll consumes topic from the start until want records arrived
// (want < 0: no limit) or idle passes without a record; it returns the
// values read, in offset order per partition.
func readAll(t *testing.T, n *node.Node, topic string, level kgo.IsolationLevel, want int, idle time.Duration) []string {
	t.Helper()
	cl := nodetest.Client(t, n, kgo.ConsumeTopics(topic), kgo.FetchIsolationLevel(level),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100*time.Millisecond))
	var out []string
	deadline := time.Now().Add(60 * time.Second)
	for (want < 0 || len(out) < want) && time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), idle)
		fs := cl.PollFetches(ctx)
		cancel()
		if fs.IsClientClosed() {
			break
		}
		got := 0
		fs.EachRecord(func(r *kgo.Record) { out = append(out, string(r.Value)); got++ })
		if got == 0 {
			break // idle: nothing more to read
		}
	}
	return out
}

func count(vs []string, prefix string) int {
	n := 0
	for _, v := range vs {
		if strings.HasPrefix(v, prefix) {
			n++
		}
	}
	return n
}

func endOffsets(t *testing.T, n *node.Node, topic string, level kgo.IsolationLevel) int64 {
	t.Helper()
	adm := kadm.NewClient(nodetest.Client(t, n, kgo.FetchIsolationLevel(level)))
	var os kadm.ListedOffsets
	var err error
	if level == kgo.ReadCommitted() {
		os, err = adm.ListCommittedOffsets(testCtx(t, 10*time.Second), topic)
	} else {
		os, err = adm.ListEndOffsets(testCtx(t, 10*time.Second), topic)
	}
	if err != nil || os.Error() != nil {
		t.Fatalf("list offsets: %v %v", err, os.Error())
	}
	var sum int64
	os.Each(func(o kadm.ListedOffset) { sum += o.Offset })
	return sum
}

// TestCommitAndAbortReadCommitted: read_committed consumers see committed
// transactions only, read_uncommitted ones everything; an open
// transaction holds the last stable offset.
func TestCommitAndAbortReadCommitted(t *testing.T) {
	n := startNode(t)
	createTopic(t, n, "t", 3)
	cl := txnProducer(t, n, "tx-commit-abort")
	txn(t, cl, "t", true, values("c1", 10)...)
	txn(t, cl, "t", false, values("a1", 10)...)
	txn(t, cl, "t", true, values("c2", 10)...)
	committed := readAll(t, n, "t", kgo.ReadCommitted(), 20, 2*time.Second)
	if len(committed) != 20 || count(committed, "c1") != 10 || count(committed, "c2") != 10 {
		t.Fatalf("read_committed read %d records: %v", len(committed), committed)
	}
	all := readAll(t, n, "t", kgo.ReadUncommitted(), 30, 2*time.Second)
	if len(all) != 30 || count(all, "a1") != 10 {
		t.Fatalf("read_uncommitted read %d records", len(all))
	}
	// An open transaction: the last stable offset stays at its start.
	ctx := testCtx(t, 10*time.Second)
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "t", Value: []byte("open")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	hw, lso := endOffsets(t, n, "t", kgo.ReadUncommitted()), endOffsets(t, n, "t", kgo.ReadCommitted())
	if hw != lso+1 {
		t.Fatalf("with one open record: high watermarks %d, last stable offsets %d", hw, lso)
	}
	if err := cl.EndTransaction(ctx, kgo.TryAbort); err != nil {
		t.Fatal(err)
	}
	if lso := endOffsets(t, n, "t", kgo.ReadCommitted()); lso != endOffsets(t, n, "t", kgo.ReadUncommitted()) {
		t.Fatalf("after the abort the LSO %d is not the high watermark", lso)
	}
	if got := readAll(t, n, "t", kgo.ReadCommitted(), 21, time.Second); len(got) != 20 {
		t.Fatalf("read_committed after the abort: %d records", len(got))
	}
}

// TestFencing: a second producer with the same transactional id fences
// the first, whose open transaction is aborted and whose later writes
// fail.
func TestFencing(t *testing.T) {
	n := startNode(t)
	createTopic(t, n, "f", 1)
	ctx := testCtx(t, 20*time.Second)
	first := txnProducer(t, n, "tx-fence")
	if err := first.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := first.ProduceSync(ctx, &kgo.Record{Topic: "f", Value: []byte("zombie-0")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	second := txnProducer(t, n, "tx-fence")
	txn(t, second, "f", true, values("second", 3)...)
	err := first.ProduceSync(ctx, &kgo.Record{Topic: "f", Value: []byte("zombie-1")}).FirstErr()
	if err == nil {
		err = first.EndTransaction(ctx, kgo.TryCommit)
	}
	if err == nil {
		t.Fatal("the fenced producer produced and committed")
	}
	if !errors.Is(err, kerr.ProducerFenced) && !errors.Is(err, kerr.InvalidProducerEpoch) && !errors.Is(err, kerr.InvalidProducerIDMapping) {
		t.Logf("fenced producer got %v", err)
	}
	all := readAll(t, n, "f", kgo.ReadUncommitted(), 4, time.Second)
	if count(all, "zombie-1") != 0 || count(all, "zombie-0") != 1 {
		t.Fatalf("log holds %v: the fenced producer wrote after the fence", all)
	}
	committed := readAll(t, n, "f", kgo.ReadCommitted(), 3, time.Second)
	if len(committed) != 3 || count(committed, "second") != 3 {
		t.Fatalf("read_committed: %v", committed)
	}
}

// TestTimeoutAbortFences: a transaction left open past its timeout is
// aborted by the coordinator and its producer fenced.
func TestTimeoutAbortFences(t *testing.T) {
	n := startNode(t)
	createTopic(t, n, "slow", 1)
	ctx := testCtx(t, 20*time.Second)
	cl := txnProducer(t, n, "tx-slow", kgo.TransactionTimeout(500*time.Millisecond))
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "slow", Value: []byte("late")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	adm := nodetest.Admin(t, n)
	waitState(t, adm, "tx-slow", "CompleteAbort")
	if err := cl.EndTransaction(ctx, kgo.TryCommit); err == nil {
		t.Fatal("commit after the timeout abort succeeded")
	}
	if got := readAll(t, n, "slow", kgo.ReadCommitted(), -1, time.Second); len(got) != 0 {
		t.Fatalf("read_committed sees %v", got)
	}
	if lso, hw := endOffsets(t, n, "slow", kgo.ReadCommitted()), endOffsets(t, n, "slow", kgo.ReadUncommitted()); lso != hw {
		t.Fatalf("LSO %d, HW %d after the abort", lso, hw)
	}
}

func waitState(t *testing.T, adm *kadm.Client, id, state string) kadm.DescribedTransaction {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ds, err := adm.DescribeTransactions(testCtx(t, 5*time.Second), id)
		if err == nil {
			if d := ds[id]; d.State == state {
				return d
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never reached %s: %+v %v", id, state, ds, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestDescribeAndListTransactions through kadm.
func TestDescribeAndListTransactions(t *testing.T) {
	n := startNode(t)
	createTopic(t, n, "d", 2)
	cl := txnProducer(t, n, "tx-describe")
	ctx := testCtx(t, 10*time.Second)
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "d", Partition: int32(i), Value: []byte("x")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	adm := nodetest.Admin(t, n)
	d := waitState(t, adm, "tx-describe", "Ongoing")
	if len(d.Topics["d"]) != 2 || d.TimeoutMillis != 10000 || d.StartTimestamp <= 0 {
		t.Fatalf("described %+v", d)
	}
	ls, err := adm.ListTransactions(ctx, nil, []string{"Ongoing"})
	if err != nil || ls["tx-describe"].State != "Ongoing" {
		t.Fatalf("list: %+v %v", ls, err)
	}
	ps, err := adm.DescribeProducers(ctx, kadm.TopicsSet{"d": {0: {}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps["d"].Partitions[0].ActiveProducers.Sorted() {
		if p.ProducerID == d.ProducerID && p.CurrentTxnStartOffset != 0 {
			t.Fatalf("producer's open transaction starts at %d", p.CurrentTxnStartOffset)
		}
	}
	if err := cl.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
	waitState(t, adm, "tx-describe", "CompleteCommit")
}
