package e2e

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/tests/brokerproc"
)

// TestTwoBrokerCluster: two `sluice serve` processes, node 1 the
// controller (the quorum's voter) and node 2 a broker that follows it
// (process.roles=broker, controller.quorum.voters naming node 1). kcat,
// bootstrapped to node 2 only, sees both brokers, creates a topic whose
// partitions are led by both, and every record it produces comes back.
func TestTwoBrokerCluster(t *testing.T) {
	t.Parallel()
	ctl := startBroker(t, "num.partitions=4")
	b2 := &broker{brokerproc.Start(t, sluiceBin, brokerproc.Options{FollowController: ctl.Broker, NodeID: 2,
		Settings: []string{"num.partitions=4"}, StartTimeout: 20 * time.Second}), t}

	var in strings.Builder
	for i := range 400 {
		fmt.Fprintf(&in, "r%d\n", i)
	}
	kcat(t, b2, in.String(), "-P", "-t", "spread")
	meta := kcat(t, b2, "", "-L", "-t", "spread")
	// The broker asked names itself as the controller (as a KRaft broker
	// names a live broker; it forwards admin requests to the quorum).
	for _, want := range []string{"2 brokers:", "broker 1 at " + ctl.Addr + "\n", "broker 2 at " + b2.Addr + " (controller)",
		`topic "spread" with 4 partitions:`, "leader 1,", "leader 2,"} {
		if !strings.Contains(meta, want) {
			t.Errorf("kcat -L via node 2 lacks %q:\n%s", want, meta)
		}
	}
	got := kcat(t, ctl, "", "-C", "-t", "spread", "-o", "beginning", "-e", "-f", "%s\n")
	seen := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSpace(got), "\n") {
		seen[l] = true
	}
	if len(seen) != 400 {
		t.Fatalf("read %d distinct records via node 1, want 400", len(seen))
	}
}

// startCluster starts node 1 (controller and broker) and brokers 2..n
// that follow it, with short sessions so that a killed broker is fenced
// within about a second and a half.
func startCluster(t *testing.T, n int) []*broker {
	t.Helper()
	ctl := startBroker(t, "broker.session.timeout.ms=1500")
	out := []*broker{ctl}
	for id := 2; id <= n; id++ {
		out = append(out, &broker{brokerproc.Start(t, sluiceBin, brokerproc.Options{FollowController: ctl.Broker, NodeID: id,
			Settings: []string{"broker.heartbeat.interval.ms=300"}, StartTimeout: 20 * time.Second}), t})
	}
	return out
}

// TestClusterKill9LeaderNoAckedLoss: three processes, a partition on all
// three led by broker 2. An idempotent acks=all producer writes 20,000
// records; broker 2 is killed with SIGKILL a quarter of the way in. The
// controller fences it, broker 3 leads, the producer carries on by
// itself; every acknowledged record is read back exactly once, in order.
// Broker 2 then restarts, catches up and holds the same log.
func TestClusterKill9LeaderNoAckedLoss(t *testing.T) {
	t.Parallel()
	bs := startCluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var seeds []string
	for _, b := range bs {
		seeds = append(seeds, b.Addr)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.DefaultProduceTopic("k9"), kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.MetadataMinAge(250*time.Millisecond)) // refresh metadata at once after the kill (kgo waits 5 s by default)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	createAssigned(ctx, t, cl, "k9", 2, 3, 1)

	const total = 20_000
	var mu sync.Mutex
	var acked []int64 // offsets by record number
	ackedAt := make([]int64, total)
	var killedAt, firstAfter time.Time
	var wg sync.WaitGroup
	for i := range total {
		if i == total/4 {
			if err := cl.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			bs[1].Kill9()
			killedAt = time.Now()
		}
		wg.Add(1)
		cl.Produce(ctx, &kgo.Record{Value: []byte(strconv.Itoa(i))}, func(r *kgo.Record, err error) {
			defer wg.Done()
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				ackedAt[i] = -1
				return
			}
			ackedAt[i] = r.Offset
			acked = append(acked, r.Offset)
			if !killedAt.IsZero() && firstAfter.IsZero() && i >= total/4 {
				firstAfter = time.Now()
			}
		})
	}
	wg.Wait()
	t.Logf("%d of %d records acknowledged; first acknowledgement %v after the kill", len(acked), total, firstAfter.Sub(killedAt))
	if len(acked) != total {
		t.Fatalf("%d records failed with the producer's retries", total-len(acked))
	}

	read := map[string]int64{}
	ccl, err := kgo.NewClient(kgo.SeedBrokers(seeds[0], seeds[2]), kgo.ConsumeTopics("k9"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer ccl.Close()
	for len(read) < total {
		fs := ccl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatalf("consume after %d records: %v", len(read), err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if _, dup := read[string(r.Value)]; dup {
				t.Fatalf("record %s read twice (offsets %d and %d)", r.Value, read[string(r.Value)], r.Offset)
			}
			read[string(r.Value)] = r.Offset
		})
	}
	for i := range total {
		if off, ok := read[strconv.Itoa(i)]; !ok || off != ackedAt[i] {
			t.Fatalf("record %d acknowledged at offset %d, read at %d (found %v)", i, ackedAt[i], off, ok)
		}
	}

	bs[1].Restart() // rejoins as a follower and catches up
	adm := kadm.NewClient(cl)
	for {
		md, err := adm.Metadata(ctx, "k9")
		if err == nil && len(md.Topics["k9"].Partitions[0].ISR) == 3 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("broker 2 never rejoined the ISR: %+v, %v", md.Topics["k9"].Partitions, err)
		case <-time.After(100 * time.Millisecond): // polling the cluster's metadata: no event to wait on
		}
	}
}

// createAssigned creates a one-partition topic whose replicas are ids,
// the first the leader.
func createAssigned(ctx context.Context, t *testing.T, cl *kgo.Client, topic string, ids ...int32) {
	t.Helper()
	req := kmsg.NewPtrCreateTopicsRequest()
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = topic, -1, -1
	ra := kmsg.NewCreateTopicsRequestTopicReplicaAssignment()
	ra.Replicas = ids
	rt.ReplicaAssignment = append(rt.ReplicaAssignment, ra)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil || resp.Topics[0].ErrorCode != 0 {
		t.Fatalf("create %s: %v %v", topic, err, resp)
	}
}

// TestClusterKill9LeaderConfluentIdempotent: confluent-kafka (librdkafka)
// bootstrapped to broker 1 only produces 100,000 records idempotently with
// acks=all to a partition led by broker 2, which is killed with SIGKILL
// once 20,000 are stored. Every record is acknowledged, at the offset
// equal to its value (no gap, no duplicate), and read back once.
func TestClusterKill9LeaderConfluentIdempotent(t *testing.T) {
	t.Parallel()
	bs := startCluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(bs[0].Addr, bs[2].Addr), kgo.ConsumeTopics("ck"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.MetadataMinAge(250*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	createAssigned(ctx, t, cl, "ck", 2, 3, 1)
	killed := make(chan time.Time, 1)
	go func() { // kill the leader once a fifth is stored
		adm := kadm.NewClient(cl)
		for ctx.Err() == nil {
			ends, err := adm.ListEndOffsets(ctx, "ck")
			if o, ok := ends.Lookup("ck", 0); err == nil && ok && o.Offset >= 20_000 {
				bs[1].Kill9()
				killed <- time.Now()
				return
			}
			time.Sleep(20 * time.Millisecond) // polling the log end: no event to wait on
		}
	}()
	const count = 100_000
	var res struct {
		Acked   int      `json:"acked"`
		Left    int      `json:"left"`
		Errors  []string `json:"errors"`
		Fatal   []string `json:"fatal"`
		Offsets []int64  `json:"offsets"`
	}
	runScript(t, "ck_idempotent.py", &res, bs[0].Addr, "ck", strconv.Itoa(count))
	select {
	case <-killed:
	default:
		t.Fatal("the producer finished before the leader was killed")
	}
	if res.Acked != count || res.Left != 0 || len(res.Errors) > 0 || len(res.Fatal) > 0 {
		t.Fatalf("%d of %d acknowledged, %d left; errors %.5q; fatal %q", res.Acked, count, res.Left, res.Errors, res.Fatal)
	}
	for i, o := range res.Offsets {
		if o != int64(i) {
			t.Fatalf("value %d acknowledged at offset %d, want %d", i, o, i)
		}
	}
	readSequence(ctx, t, cl, count)
}

// readSequence consumes through cl until count records are read and
// fails unless record i holds the value i at offset i: every record once,
// in order, with no gap.
func readSequence(ctx context.Context, t *testing.T, cl *kgo.Client, count int) {
	t.Helper()
	next := 0
	for next < count {
		fs := cl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatalf("consume after %d records: %v", next, err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if string(r.Value) != strconv.Itoa(next) || r.Offset != int64(next) {
				t.Fatalf("record at offset %d is %q, want %d", r.Offset, r.Value, next)
			}
			next++
		})
	}
}

// TestClusterSeedScriptsLeaderKill: the seed's kafka-python producer
// (acks=1, one record a second) and consumer (group "test"), unchanged and
// bootstrapped to broker 1 only, against three brokers with every topic,
// __consumer_offsets included, replicated three times. The leader of the
// topic, broker 2, is killed with SIGKILL after about 20 records; the
// consumer still prints all 100. It may print some twice: its group's
// coordinator may move, and kafka-python commits offsets every 5 s, so
// the records after the last commit come again (at least once, as with
// Kafka); the acks=1 producer may also store a retried record twice.
func TestClusterSeedScriptsLeaderKill(t *testing.T) {
	t.Parallel()
	ctl := startBroker(t, "broker.session.timeout.ms=1500", "offsets.topic.replication.factor=3")
	bs := []*broker{ctl}
	for id := 2; id <= 3; id++ {
		bs = append(bs, &broker{brokerproc.Start(t, sluiceBin, brokerproc.Options{FollowController: ctl.Broker, NodeID: id,
			Settings: []string{"broker.heartbeat.interval.ms=300"}, StartTimeout: 20 * time.Second}), t})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(ctl.Addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	createAssigned(ctx, t, cl, "howtousekafka", 2, 3, 1)
	killed := make(chan struct{})
	go func() {
		adm := kadm.NewClient(cl)
		for ctx.Err() == nil {
			ends, err := adm.ListEndOffsets(ctx, "howtousekafka")
			if o, ok := ends.Lookup("howtousekafka", 0); err == nil && ok && o.Offset >= 20 {
				bs[1].Kill9()
				close(killed)
				return
			}
			time.Sleep(200 * time.Millisecond) // polling the log end: no event to wait on
		}
	}()
	dups := runSeed(t, ctl.Addr, func() string { return ctl.Log() + "\n--- broker 3:\n" + bs[2].Log() })
	t.Logf("all 100 records printed, %d of them twice", dups)
	select {
	case <-killed:
	default:
		t.Fatal("the seed scripts finished before the leader was killed")
	}
}
