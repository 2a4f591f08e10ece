package node_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/batch"
	"github.com/sluice-io/sluice/internal/cluster"
	"github.com/sluice-io/sluice/internal/metadata"
	"github.com/sluice-io/sluice/internal/model"
	"github.com/sluice-io/sluice/internal/node"
	"github.com/sluice-io/sluice/internal/node/nodetest"
	"github.com/sluice-io/sluice/internal/replica"
)

// logBytes reads a replica's whole log.
func logBytes(t *testing.T, p *replica.Partition) []byte {
	t.Helper()
	var out []byte
	for off := p.LogStartOffset(); off < p.LogEndOffset(); {
		c, err := p.Log().Read(off, 1<<20, true)
		if err != nil {
			t.Fatal(err)
		}
		b := make([]byte, c.Size)
		if _, err := c.ReadAt(b, 0); err != nil {
			t.Fatal(err)
		}
		out = append(out, b...)
		for rest := b; len(rest) > 0; rest = rest[batch.Header(rest).Size():] {
			off = model.Offset(batch.Header(rest).LastOffset()) + 1
		}
	}
	return out
}

// Two brokers, a topic with replication factor 2: acks=all produces are
// answered once the follower fetched them, both replicas hold the same
// bytes, and a consumer reads every record.
func TestTwoReplicasByteIdentical(t *testing.T) {
	checkTwoReplicas(t, 2)
}

// With num.replica.fetchers 3 each broker replicates a leader's six
// partitions over three fetchers (connections), with the same result.
func TestSeveralFetchersPerLeader(t *testing.T) {
	checkTwoReplicas(t, 6, func(o *node.Options) {
		o.Fetch = cluster.DefaultFetcherOptions()
		o.Fetch.NumFetchers = 3
	})
}

// checkTwoReplicas runs a topic of partitions on two brokers started
// with mods, as TestTwoReplicasByteIdentical says.
func checkTwoReplicas(t *testing.T, partitions int32, mods ...func(*node.Options)) {
	voter := nodetest.Start(t, append([]func(*node.Options){asVoter}, mods...)...)
	broker := nodetest.Start(t, append([]func(*node.Options){following(voter, 2)}, mods...)...)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cl := nodetest.Client(t, broker, kgo.DefaultProduceTopic("rep"), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, partitions, 2, nil, "rep"); err != nil {
		t.Fatal(err)
	}
	const n = 2000
	for i := range n {
		cl.Produce(ctx, &kgo.Record{Value: []byte(fmt.Sprint(i))}, func(_ *kgo.Record, err error) {
			if err != nil {
				t.Error(err)
			}
		})
	}
	if err := cl.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for p := range partitions {
		tp := model.TopicPartition{Topic: "rep", Partition: p}
		a, b := voter.Partition(tp), broker.Partition(tp)
		if a == nil || b == nil {
			t.Fatalf("%s not hosted on both brokers", tp)
		}
		leader, follower := a, b
		if b.Role() == replica.RoleLeader {
			leader, follower = b, a
		}
		// acks=all answered: the leader's HW passed every record.
		if hw, end := leader.HighWatermark(), leader.LogEndOffset(); hw != end || end == 0 {
			t.Fatalf("%s leader HW %d, log end %d", tp, hw, end)
		}
		deadline := time.Now().Add(10 * time.Second) // the follower's HW arrives with its next fetch
		for follower.HighWatermark() != leader.HighWatermark() && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond) // no event exposes a follower's HW move
		}
		if !bytes.Equal(logBytes(t, leader), logBytes(t, follower)) {
			t.Fatalf("%s: the replicas' logs differ", tp)
		}
		if follower.HighWatermark() != leader.HighWatermark() {
			t.Fatalf("%s follower HW %d, leader %d", tp, follower.HighWatermark(), leader.HighWatermark())
		}
	}
	ccl := nodetest.Client(t, voter, kgo.ConsumeTopics("rep"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	got := 0
	for got < n {
		fs := ccl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatal(err)
		}
		got += fs.NumRecords()
	}
}

// Three brokers, a partition on all three led by broker 2: while an
// idempotent acks=all producer writes, broker 2 stops. The controller
// fences it (its listener refuses connections), broker 3 (next in the ISR) leads
// at the next leader epoch, the producer carries on by itself, and every
// acknowledged record is there exactly once.
func TestLeaderLossElectsFromISR(t *testing.T) {
	voter := nodetest.Start(t, asVoter, func(o *node.Options) {
		o.SessionTimeout = time.Second
	})
	brokers := map[int]*node.Node{}
	for _, id := range []int{2, 3} {
		brokers[id] = nodetest.Start(t, following(voter, model.NodeID(id)), func(o *node.Options) {
			o.HeartbeatInterval = 100 * time.Millisecond
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if err := createAssigned(ctx, t, voter, "fail", []int32{2, 3, 1}); err != nil {
		t.Fatal(err)
	}
	tp := model.TopicPartition{Topic: "fail", Partition: 0}
	if p := voter.Metadata().Current().Topics["fail"].Partitions[0]; p.Leader != 2 {
		t.Fatalf("leader %d, want 2", p.Leader)
	}

	cl := nodetest.Client(t, voter, kgo.DefaultProduceTopic("fail"), kgo.SeedBrokers(voter.Addr(), brokers[3].Addr()))
	acked := make(chan string, 100_000)
	produce := func(from, to int) {
		for i := from; i < to; i++ {
			v := fmt.Sprint(i)
			cl.Produce(ctx, &kgo.Record{Value: []byte(v)}, func(_ *kgo.Record, err error) {
				if err == nil {
					acked <- v
				}
			})
		}
	}
	produce(0, 3000)
	if err := cl.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	produce(3000, 6000)
	brokers[2].Crash() // no controlled shutdown: the controller's probe finds it dead
	if err := cl.Flush(ctx); err != nil {
		for id, n := range map[int]*node.Node{1: voter, 3: brokers[3]} {
			r := n.Partition(tp)
			t.Logf("broker %d: %s epoch %d HW %d log end %d", id, r.Role(), r.LeaderEpoch(), r.HighWatermark(), r.LogEndOffset())
		}
		t.Logf("image: %+v", voter.Metadata().Current().Topics["fail"].Partitions[0])
		t.Fatal(err)
	}
	close(acked)
	p := voter.Metadata().Current().Topics["fail"].Partitions[0]
	if p.Leader != 3 || p.LeaderEpoch != 1 || !voter.Metadata().Current().Brokers[2].Fenced {
		t.Fatalf("after the loss: leader %d epoch %d ISR %v, broker 2 fenced %v; want leader 3 at epoch 1",
			p.Leader, p.LeaderEpoch, p.ISR, voter.Metadata().Current().Brokers[2].Fenced)
	}
	if r := brokers[3].Partition(tp); r.Role() != replica.RoleLeader {
		t.Fatal("broker 3 does not lead")
	}
	want := map[string]bool{}
	for v := range acked {
		want[v] = true
	}
	if len(want) < 6000 {
		t.Fatalf("%d of 6000 records acknowledged", len(want))
	}
	ccl := nodetest.Client(t, brokers[3], kgo.ConsumeTopics("fail"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	seen := map[string]int{}
	for n := 0; n < len(want); {
		fs := ccl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatal(err)
		}
		fs.EachRecord(func(r *kgo.Record) { seen[string(r.Value)]++; n++ })
	}
	for v := range want {
		if seen[v] != 1 {
			t.Fatalf("record %s read %d times, want once", v, seen[v])
		}
	}
}

// createAssigned creates a one-partition topic with the given replicas.
func createAssigned(ctx context.Context, t *testing.T, n *node.Node, topic string, replicas []int32) error {
	req := kmsg.NewPtrCreateTopicsRequest()
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = topic, -1, -1
	ra := kmsg.NewCreateTopicsRequestTopicReplicaAssignment()
	ra.Partition, ra.Replicas = 0, replicas
	rt.ReplicaAssignment = append(rt.ReplicaAssignment, ra)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, nodetest.Client(t, n))
	if err != nil {
		return err
	}
	return kerr.ErrorForCode(resp.Topics[0].ErrorCode)
}

// shortLag makes partitions count a follower out of sync after 500 ms.
func shortLag(o *node.Options) {
	base := o.TopicConfig
	o.TopicConfig = func(im *metadata.Image, overrides map[string]string) replica.Config {
		c := base(im, overrides)
		c.ReplicaLagTimeMaxMs = 500
		return c
	}
	o.ISRCheckInterval = 100 * time.Millisecond
}

// awaitISR waits until the image of n shows partition 0 of topic with isr.
func awaitISR(ctx context.Context, t *testing.T, n *node.Node, topic string, isr []model.NodeID) {
	t.Helper()
	for {
		changed := n.Metadata().Changed()
		if p := n.Metadata().Current().Topics[topic].Partitions[0]; slices.Equal(p.ISR, isr) {
			return
		}
		select {
		case <-changed:
		case <-ctx.Done():
			t.Fatalf("ISR of %s is %v, want %v", topic, n.Metadata().Current().Topics[topic].Partitions[0].ISR, isr)
		}
	}
}

// A follower that stops fetching (its broker down, its session not yet
// expired) leaves the ISR after replica.lag.time.max.ms, so acks=all
// produces go on; back and caught up, it joins the ISR again and holds
// the leader's bytes.
func TestISRShrinksAndExpands(t *testing.T) {
	voter := nodetest.Start(t, shortLag, asVoter, func(o *node.Options) {
		o.SessionTimeout = time.Minute // this test is about the ISR, not fencing
	})
	follower := nodetest.StartRestartable(t, shortLag, following(voter, 2))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := createAssigned(ctx, t, voter, "isr", []int32{1, 2}); err != nil {
		t.Fatal(err)
	}
	cl := nodetest.Client(t, voter, kgo.DefaultProduceTopic("isr"))
	produceN := func(n int) {
		t.Helper()
		for i := range n {
			if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte(fmt.Sprint(i))}).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
	}
	produceN(50)
	follower.Stop()
	produceN(50) // answered once the ISR is {1}
	awaitISR(ctx, t, voter, "isr", []model.NodeID{1})

	follower.Restart()
	awaitISR(ctx, t, voter, "isr", []model.NodeID{1, 2})
	tp := model.TopicPartition{Topic: "isr", Partition: 0}
	if a, b := logBytes(t, voter.Partition(tp)), logBytes(t, follower.Node.Partition(tp)); !bytes.Equal(a, b) {
		t.Fatalf("the follower's log (%d bytes) differs from the leader's (%d bytes)", len(b), len(a))
	}
}

// A broker that stops cleanly asks the controller to fence it first: the
// partitions it led get new leaders at once, long before its session
// (a minute here) would have expired, and the producer carries on.
func TestControlledShutdownMovesLeadership(t *testing.T) {
	voter := nodetest.Start(t, asVoter, func(o *node.Options) { o.SessionTimeout = time.Minute })
	brokers := map[int]*node.Node{}
	for _, id := range []int{2, 3} {
		brokers[id] = nodetest.Start(t, following(voter, model.NodeID(id)))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := createAssigned(ctx, t, voter, "cs", []int32{2, 3, 1}); err != nil {
		t.Fatal(err)
	}
	cl := nodetest.Client(t, voter, kgo.DefaultProduceTopic("cs"), kgo.SeedBrokers(voter.Addr(), brokers[3].Addr()),
		kgo.MetadataMinAge(100*time.Millisecond))
	if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte("before")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := brokers[2].Close(); err != nil {
		t.Fatal(err)
	}
	if p := voter.Metadata().Current().Topics["cs"].Partitions[0]; p.Leader != 3 || !voter.Metadata().Current().Brokers[2].Fenced {
		t.Fatalf("after broker 2 stopped: leader %d, broker 2 fenced %v", p.Leader, voter.Metadata().Current().Brokers[2].Fenced)
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte("after")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Fatalf("produce resumed %v after the stop", d)
	}
}

// A topic with sluice.write.caching answers acks=all without an fsync
// anywhere, as Kafka: its follower reports what it appended without
// syncing it first; a topic without it has the follower's copy on disk
// before the acknowledgement.
func TestWriteCachingFollowerDoesNotSync(t *testing.T) {
	voter := nodetest.Start(t, asVoter)
	broker := nodetest.Start(t, following(voter, 2))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cl := nodetest.Client(t, broker)
	adm := kadm.NewClient(cl)
	if _, err := adm.CreateTopic(ctx, 1, 2, map[string]*string{"sluice.write.caching": kmsg.StringPtr("true")}, "cached"); err != nil {
		t.Fatal(err)
	}
	if _, err := adm.CreateTopic(ctx, 1, 2, nil, "synced"); err != nil {
		t.Fatal(err)
	}
	for topic, wantSynced := range map[string]bool{"cached": false, "synced": true} {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte("v")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
		tp := model.TopicPartition{Topic: topic, Partition: 0}
		follower := voter.Partition(tp)
		if follower.Role() == replica.RoleLeader {
			follower = broker.Partition(tp)
		}
		if synced := follower.Log().RecoveryPoint() >= 1; synced != wantSynced {
			t.Errorf("%s: the follower's record is fsynced: %v, want %v (log end %d)", topic, synced, wantSynced, follower.LogEndOffset())
		}
	}
}
