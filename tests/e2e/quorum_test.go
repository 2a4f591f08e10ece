package e2e

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/controller"
	"github.com/sluice-io/sluice/tests/brokerproc"
)

// TestClusterKill9ActiveController: three combined `sluice serve`
// processes, all voters of the metadata quorum (three server.properties
// with the same controller.quorum.voters). A topic has one partition led
// by the active controller's node and one led by another. An idempotent
// acks=all producer writes 20,000 records over both; the active
// controller's process is killed with SIGKILL a quarter of the way in.
// Another voter becomes the active controller, fences the dead broker and
// moves its partition; the producer carries on by itself, every
// acknowledged record is read back once at its acknowledged offset, a
// topic can be created through a survivor, and the killed node restarts
// and rejoins both ISRs.
func TestClusterKill9ActiveController(t *testing.T) {
	t.Parallel()
	bs, seeds := startVoters(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	active := quorumLeader(ctx, t, bs, -1)
	other := active%3 + 1
	third := other%3 + 1
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.DefaultProduceTopic("q9"), kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.RecordPartitioner(kgo.RoundRobinPartitioner()), kgo.MetadataMinAge(250*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	createAssignedPartitions(ctx, t, cl, "q9", []int32{active, other, third}, []int32{other, active, third})

	const total = 20_000
	type at struct {
		partition int32
		offset    int64
	}
	var mu sync.Mutex
	ackedAt := make([]at, total)
	failed := 0
	var killedAt, lastAck time.Time // lastAck: the first acknowledgement from partition 0 after the kill
	var wg sync.WaitGroup
	for i := range total {
		if i == total/4 {
			if err := cl.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			bs[active-1].Kill9()
			killedAt = time.Now()
		}
		wg.Add(1)
		cl.Produce(ctx, &kgo.Record{Value: []byte(strconv.Itoa(i))}, func(r *kgo.Record, err error) {
			defer wg.Done()
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failed++
				return
			}
			ackedAt[i] = at{r.Partition, r.Offset}
			if i >= total/4 && r.Partition == 0 && lastAck.IsZero() {
				lastAck = time.Now()
			}
		})
	}
	wg.Wait()
	t.Logf("first acknowledgement on the killed node's partition %v after the kill", lastAck.Sub(killedAt))
	if failed > 0 {
		t.Fatalf("%d records failed with the producer's retries", failed)
	}
	if next := quorumLeader(ctx, t, bs, active); next == active {
		t.Fatalf("node %d, killed, still leads the quorum", active)
	}
	survivors := []string{bs[other-1].Addr, bs[third-1].Addr}
	acl, err := kgo.NewClient(kgo.SeedBrokers(survivors...))
	if err != nil {
		t.Fatal(err)
	}
	defer acl.Close()
	if _, err := kadm.NewClient(acl).CreateTopic(ctx, 3, 2, nil, "after-kill"); err != nil {
		t.Fatalf("create a topic after the active controller's kill: %v", err)
	}

	// The CLI, through a survivor: the new leader of the quorum with the
	// three voters, and both partitions of q9 under-replicated.
	quorumOut := run(t, 30*time.Second, nil, sluiceBin, "-b", bs[other-1].Addr, "cluster", "quorum")
	if !strings.Contains(quorumOut, "Leader") || strings.Count(quorumOut, "Follower") != 2 ||
		strings.Contains(quorumOut, fmt.Sprintf("LEADER          %d\n", active)) {
		t.Errorf("sluice cluster quorum after the kill:\n%s", quorumOut)
	}
	infoOut := run(t, 30*time.Second, nil, sluiceBin, "-b", bs[other-1].Addr, "cluster", "info")
	if !strings.Contains(infoOut, "UNDER-REPLICATED PARTITIONS  2 (q9/0, q9/1)") {
		t.Errorf("sluice cluster info after the kill does not flag q9's partitions:\n%s", infoOut)
	}

	read := map[string]at{}
	ccl, err := kgo.NewClient(kgo.SeedBrokers(survivors...), kgo.ConsumeTopics("q9"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
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
			if prev, dup := read[string(r.Value)]; dup {
				t.Fatalf("record %s read twice (%v and %d/%d)", r.Value, prev, r.Partition, r.Offset)
			}
			read[string(r.Value)] = at{r.Partition, r.Offset}
		})
	}
	for i := range total {
		if got, ok := read[strconv.Itoa(i)]; !ok || got != ackedAt[i] {
			t.Fatalf("record %d acknowledged at %v, read at %v (found %v)", i, ackedAt[i], got, ok)
		}
	}

	bs[active-1].Restart()
	adm := kadm.NewClient(cl)
	for {
		md, err := adm.Metadata(ctx, "q9")
		ps := md.Topics["q9"].Partitions
		if err == nil && len(ps) == 2 && len(ps[0].ISR) == 3 && len(ps[1].ISR) == 3 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("node %d never rejoined the ISRs: %+v, %v", active, ps, err)
		case <-time.After(100 * time.Millisecond): // polling the cluster's metadata: no event to wait on
		}
	}
}

// startVoters starts three combined nodes, all voters, with short
// sessions (a dead broker is fenced within 1.5 s), min.insync.replicas=2
// and the extra settings, and returns them with their Kafka addresses.
func startVoters(t *testing.T, extra ...string) ([]*brokerproc.Broker, []string) {
	t.Helper()
	bs := brokerproc.StartQuorum(t, sluiceBin, 3, brokerproc.Options{StartTimeout: 30 * time.Second,
		Settings: append([]string{"broker.session.timeout.ms=1500", "broker.heartbeat.interval.ms=300", "min.insync.replicas=2"}, extra...)})
	var seeds []string
	for _, b := range bs {
		seeds = append(seeds, b.Addr)
	}
	return bs, seeds
}

// quorumLeader asks the live voters (DescribeQuorum) for the quorum's
// leader until one other than not answers.
func quorumLeader(ctx context.Context, t *testing.T, bs []*brokerproc.Broker, not int32) int32 {
	t.Helper()
	for {
		for _, b := range bs {
			if !b.Alive() {
				continue
			}
			if id, err := brokerproc.QuorumLeader(ctx, b.ControllerAddr); err == nil && id >= 0 && id != not {
				return id
			}
		}
		select {
		case <-ctx.Done():
			t.Fatal("the quorum has no leader")
		case <-time.After(100 * time.Millisecond): // an election in other processes: no event to wait on
		}
	}
}

// createAssignedPartitions creates a topic with one partition per
// assignment, the first replica of each its leader.
func createAssignedPartitions(ctx context.Context, t *testing.T, cl *kgo.Client, topic string, assignments ...[]int32) {
	t.Helper()
	req := kmsg.NewPtrCreateTopicsRequest()
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = topic, -1, -1
	for i, ids := range assignments {
		ra := kmsg.NewCreateTopicsRequestTopicReplicaAssignment()
		ra.Partition, ra.Replicas = int32(i), ids
		rt.ReplicaAssignment = append(rt.ReplicaAssignment, ra)
	}
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil || resp.Topics[0].ErrorCode != 0 {
		t.Fatalf("create %s: %v %+v", topic, err, resp)
	}
}

// TestClusterNodeIDsFromZero: three combined nodes numbered 0, 1, 2 (as
// many Kafka configurations number them) form the quorum; DescribeQuorum
// names voters 0, 1 and 2, a topic of three replicas takes records, and
// after a kill -9 of the active controller another voter leads and the
// records are all there.
func TestClusterNodeIDsFromZero(t *testing.T) {
	t.Parallel()
	bs := brokerproc.StartQuorumFrom(t, sluiceBin, 0, 3, brokerproc.Options{StartTimeout: 30 * time.Second,
		Settings: []string{"min.insync.replicas=2"}})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	active := quorumLeader(ctx, t, bs, -1)
	cl, err := kgo.NewClient(kgo.SeedBrokers(bs[(active+1)%3].Addr, bs[(active+2)%3].Addr), kgo.DefaultProduceTopic("zero"),
		kgo.MetadataMinAge(250*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	req := controller.NewDescribeQuorumRequest()
	dq, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	var voters []int32
	for _, v := range dq.Topics[0].Partitions[0].CurrentVoters {
		voters = append(voters, v.ReplicaID)
	}
	if !slices.Equal(voters, []int32{0, 1, 2}) || dq.Topics[0].Partitions[0].LeaderID != active {
		t.Fatalf("DescribeQuorum: voters %v leader %d, want [0 1 2] and %d", voters, dq.Topics[0].Partitions[0].LeaderID, active)
	}
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 3, 3, nil, "zero"); err != nil {
		t.Fatal(err)
	}
	const n = 300
	for i := range n {
		if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte(strconv.Itoa(i))}).FirstErr(); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if i == n/2 {
			bs[active].Kill9()
		}
	}
	if next := quorumLeader(ctx, t, bs, active); next == active || next < 0 {
		t.Fatalf("quorum leader %d after node %d died", next, active)
	}
	ccl, err := kgo.NewClient(kgo.SeedBrokers(bs[(active+1)%3].Addr), kgo.ConsumeTopics("zero"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer ccl.Close()
	seen := map[string]bool{}
	for len(seen) < n {
		fs := ccl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("read %d of %d records: %v", len(seen), n, err)
		}
		fs.EachRecord(func(r *kgo.Record) { seen[string(r.Value)] = true })
	}
}
