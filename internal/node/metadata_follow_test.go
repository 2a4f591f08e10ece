package node_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/cluster"
	"github.com/sluice-io/sluice/internal/kafka/conn"
	"github.com/sluice-io/sluice/internal/kafka/handler"
	"github.com/sluice-io/sluice/internal/metadata"
	"github.com/sluice-io/sluice/internal/model"
	"github.com/sluice-io/sluice/internal/node"
	"github.com/sluice-io/sluice/internal/node/nodetest"
)

// asVoter makes a test node the quorum's voter with a CONTROLLER listener.
func asVoter(o *node.Options) {
	o.ControllerListener = &node.Listener{Name: "CONTROLLER", Addr: "127.0.0.1:0"}
}

// following makes a test node broker id, following voter's controller.
func following(voter *node.Node, id model.NodeID) func(*node.Options) {
	return func(o *node.Options) {
		o.NodeID, o.Handler.NodeID = id, id
		o.ControllerVoters = []string{voter.ControllerAddr()}
	}
}

// A broker that is not a voter follows the metadata log from a voter's
// CONTROLLER listener into its own publisher: it ends at the voter's
// index with the voter's topics, and a fetch with nothing new waits for
// the next change instead of returning at once.
func TestMetadataFollowerCatchesUpAndWaits(t *testing.T) {
	n := nodetest.Start(t, asVoter)
	adm := nodetest.Admin(t, n)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, name := range []string{"a", "b", "c"} {
		if _, err := adm.CreateTopic(ctx, 3, 1, nil, name); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := adm.DeleteTopics(ctx, "b"); err != nil {
		t.Fatal(err)
	}

	pub := metadata.NewPublisher()
	f, err := cluster.NewMetadataFollower([]string{n.ControllerAddr()}, pub)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.Wait = 5 * time.Second
	want := n.Metadata().Current()
	for pub.Current().Index < want.Index {
		if _, err := f.Step(ctx); err != nil {
			t.Fatal(err)
		}
	}
	got := pub.Current()
	if got.Index != want.Index || len(got.Topics) != len(want.Topics) || got.Topics["a"] == nil || got.Topics["b"] != nil ||
		got.Topics["c"].ID != want.Topics["c"].ID || got.ClusterID != want.ClusterID || len(got.Brokers) != 1 {
		t.Fatalf("follower image at %d with topics %v, voter at %d with %v", got.Index, got.TopicNames(), want.Index, want.TopicNames())
	}

	// Nothing new: the fetch long-polls until the next change.
	done := make(chan uint64, 1)
	go func() {
		idx, err := f.Step(ctx)
		if err != nil {
			t.Error(err)
		}
		done <- idx
	}()
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, "d"); err != nil {
		t.Fatal(err)
	}
	select {
	case idx := <-done:
		if idx != n.Metadata().Current().Index || pub.Current().Topics["d"] == nil {
			t.Fatalf("after the wait: index %d, topics %v", idx, pub.Current().TopicNames())
		}
	case <-ctx.Done():
		t.Fatal("the waiting fetch did not return with the new entry")
	}
}

// A follower below the voter's journal (here: the voter restored a
// snapshot at 50, so entry 3 is gone) restores the voter's image with
// FetchSnapshot, then follows the entries after it.
func TestMetadataFollowerRestoresImage(t *testing.T) {
	voter := metadata.NewPublisher()
	entry := func(name string) []byte {
		b, err := metadata.EncodeEntry([]metadata.Record{{Topic: &metadata.TopicRecord{Name: name, ID: model.NewTopicID()}}})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if err := voter.Apply(3, entry("x")); err != nil {
		t.Fatal(err)
	}
	snap, _ := voter.Snapshot()
	if err := voter.Restore(50, snap); err != nil { // the journal starts over at 50
		t.Fatal(err)
	}
	if err := voter.Apply(51, entry("y")); err != nil {
		t.Fatal(err)
	}
	srv, err := conn.Listen(conn.Config{Name: "CONTROLLER", Addr: "127.0.0.1:0", Connections: conn.NoConnectionLimits(), MaxRequestBytes: 1 << 20,
		Requests: node.TestOptions(t.TempDir()).Requests},
		&handler.Broker{Settings: handler.Settings{Endpoint: handler.ControllerEndpoint}, Metadata: voter,
			Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: time.Now}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve()
	defer srv.Close()

	pub := metadata.NewPublisher()
	f, err := cluster.NewMetadataFollower([]string{srv.Addr().String()}, pub)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// The voter answers with its current image, wherever the snapshot
	// id of its fetch answer pointed.
	if idx, err := f.Step(ctx); err != nil || idx != 51 || pub.Current().Topics["x"] == nil || pub.Current().Topics["y"] == nil {
		t.Fatalf("first step: index %d, %v, topics %v; want the image at 51", idx, err, pub.Current().TopicNames())
	}
	if err := voter.Apply(52, entry("z")); err != nil {
		t.Fatal(err)
	}
	if idx, err := f.Step(ctx); err != nil || idx != 52 || pub.Current().Topics["z"] == nil {
		t.Fatalf("second step: index %d, %v, topics %v; want entry 52", idx, err, pub.Current().TopicNames())
	}
}

// The CONTROLLER listener serves its own APIs only: ApiVersions lists
// them, and a client API there is refused.
func TestControllerListenerAPIs(t *testing.T) {
	n := nodetest.Start(t, asVoter)
	cl, err := kgo.NewClient(kgo.SeedBrokers(n.ControllerAddr()), kgo.RequestRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	seed := cl.SeedBrokers()[0]
	resp, err := seed.Request(ctx, kmsg.NewPtrApiVersionsRequest())
	if err != nil {
		t.Fatal(err)
	}
	var keys []int16
	for _, k := range resp.(*kmsg.ApiVersionsResponse).ApiKeys {
		keys = append(keys, k.ApiKey)
	}
	if want := []int16{1, 18, 19, 20, 33, 37, 43, 44, 55, 56, 57, 59, 62, 63, 67}; !slices.Equal(keys, want) {
		t.Fatalf("controller listener serves %v, want %v", keys, want)
	}
	if _, err := seed.Request(ctx, kmsg.NewPtrMetadataRequest()); err == nil {
		t.Fatal("Metadata answered on the controller listener")
	}
}

// Two brokers: node 1 is the quorum's voter, node 2 a broker that follows
// its metadata and sends it what it asks of the controller. A client
// that knows only node 2 creates a topic (forwarded to the controller),
// produces idempotently (producer ids from the controller) to partitions
// led by both nodes and reads everything back.
func TestBrokerThatIsNotAVoter(t *testing.T) {
	voter := nodetest.Start(t, asVoter)
	broker := nodetest.Start(t, following(voter, 2))
	if im := voter.Metadata().Current(); im.Brokers[2] == nil || im.Brokers[2].Port == 0 {
		t.Fatalf("broker 2 not registered with the controller: %v", im.BrokerIDs())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cl := nodetest.Client(t, broker, kgo.DefaultProduceTopic("two"), kgo.ConsumeTopics("two"),
		kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	adm := kadm.NewClient(cl)
	if _, err := adm.CreateTopic(ctx, 4, 1, nil, "two"); err != nil {
		t.Fatal(err)
	}
	leaders := map[int32]bool{}
	for _, p := range voter.Metadata().Current().Topics["two"].Partitions {
		leaders[int32(p.Leader)] = true
	}
	if !leaders[1] || !leaders[2] {
		t.Fatalf("partition leaders %v: want both brokers", leaders)
	}
	const n = 200
	for i := range n {
		cl.Produce(ctx, &kgo.Record{Value: []byte(fmt.Sprint(i))}, nil)
	}
	if err := cl.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for len(seen) < n {
		fs := cl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatal(err)
		}
		fs.EachRecord(func(r *kgo.Record) { seen[string(r.Value)] = true })
	}

	// A consumer group through node 2: its coordinator may live on
	// either broker (__consumer_offsets is spread over both).
	gcl := nodetest.Client(t, broker, kgo.ConsumeTopics("two"), kgo.ConsumerGroup("g2"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit())
	got := 0
	for got < n {
		fs := gcl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatal(err)
		}
		got += fs.NumRecords()
	}
	if err := gcl.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatal(err)
	}
	offs, err := adm.FetchOffsets(ctx, "g2")
	if err != nil || offs.Sorted()[0].At <= 0 {
		t.Fatalf("committed offsets of g2: %v, %v", offs, err)
	}

	// More replicas than brokers is refused, as in Kafka.
	res, err := adm.CreateTopic(ctx, 1, 3, nil, "rf3")
	if err == nil {
		err = res.Err
	}
	if !errors.Is(err, kerr.InvalidReplicationFactor) {
		t.Fatalf("replication factor 3 on 2 brokers: %v, want INVALID_REPLICATION_FACTOR", err)
	}
}

// Transactions across two brokers: a transactional producer through node
// 2 writes to partitions led by both; the coordinator (on either) writes
// the markers to the other broker's partitions, the leaders there verify
// the partitions with it, and a read_committed consumer sees the
// committed transactions and none of the aborted one.
func TestTransactionsAcrossBrokers(t *testing.T) {
	voter := nodetest.Start(t, asVoter)
	broker := nodetest.Start(t, following(voter, 2))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := kadm.NewClient(nodetest.Client(t, broker)).CreateTopic(ctx, 4, 1, nil, "tx"); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"tx-a", "tx-b", "tx-c", "tx-d"} { // ids whose coordinators land on both brokers
		cl := nodetest.Client(t, broker, kgo.TransactionalID(id), kgo.DefaultProduceTopic("tx"),
			kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
		for round, commit := range []bool{true, false, true} {
			if err := cl.BeginTransaction(); err != nil {
				t.Fatal(err)
			}
			for i := range 8 {
				v := fmt.Sprintf("%s-%d-%d-%v", id, round, i, commit)
				if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte(v)}).FirstErr(); err != nil {
					t.Fatalf("%s: %v", id, err)
				}
			}
			if err := cl.EndTransaction(ctx, kgo.TransactionEndTry(commit)); err != nil {
				t.Fatalf("%s end: %v", id, err)
			}
		}
	}
	ccl := nodetest.Client(t, voter, kgo.ConsumeTopics("tx"), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	got := 0
	for got < 4*2*8 {
		fs := ccl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatal(err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if strings.HasSuffix(string(r.Value), "false") {
				t.Fatalf("read_committed consumer got aborted record %s", r.Value)
			}
			got++
		})
	}
}
