package group_test

// End-to-end tests of KIP-848 consumer groups: a real node and franz-go
// members speaking ConsumerGroupHeartbeat (kgo.ServerSideBalancer).

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-io/sluice/internal/node"
	"github.com/sluice-io/sluice/internal/node/nodetest"
)

// fastConsumerGroups makes consumer group heartbeats and sessions short.
func fastConsumerGroups(o *node.Options) {
	o.Groups.ConsumerHeartbeatInterval = 100 * time.Millisecond
	o.Groups.ConsumerSessionTimeout = 5 * time.Second
}

// start848 starts a consumer-protocol member that commits what each poll
// returned before it lets a revocation through: no record is read twice.
func start848(t *testing.T, n *node.Node, group, topic string, ta *tally, balancer kgo.GroupBalancer, opts ...kgo.Opt) *consumer {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(n.Addr()), kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
		kgo.Balancers(balancer), kgo.ServerSideBalancer(), kgo.DisableAutoCommit(), kgo.BlockRebalanceOnPoll(),
		kgo.FetchMaxWait(100 * time.Millisecond), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	c := &consumer{cl: cl, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			<-c.stop
			cancel()
		}()
		for ctx.Err() == nil {
			fs := cl.PollRecords(ctx, 500)
			fs.EachRecord(func(r *kgo.Record) {
				ta.add(string(r.Value))
				c.read.Add(1)
			})
			if err := cl.CommitUncommittedOffsets(context.Background()); err != nil {
				t.Errorf("commit: %v", err)
			}
			cl.AllowRebalance()
		}
	}()
	return c
}

// waitConsumerGroup waits until the consumer group is Stable with n
// members (ConsumerGroupDescribe).
func waitConsumerGroup(t *testing.T, n *node.Node, group string, members int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ds, err := nodetest.Admin(t, n).DescribeConsumerGroups(testCtx(t, 10*time.Second), group)
		if err != nil {
			t.Fatalf("describe consumer group: %v", err)
		}
		d := ds[group]
		if d.Err == nil && d.State == "Stable" && len(d.Members) == members {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("consumer group %s is %s with %d members (err %v), want Stable with %d", group, d.State, len(d.Members), d.Err, members)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Three members consume 30,000 records of six partitions exactly once
// while records keep coming, one member joins late and one leaves; a new
// member resumes from the committed offsets.
func TestConsumerProtocolExactlyOnce(t *testing.T) {
	n := nodetest.Start(t, fastConsumerGroups)
	createTopic(t, n, "t848", 6)
	prod := producer(t, n)
	produced := make(chan error, 1)
	go func() { // 30 batches of 1,000, spread over the membership changes
		for i := range 30 {
			recs := make([]*kgo.Record, 1000)
			for j := range recs {
				recs[j] = &kgo.Record{Topic: "t848", Value: fmt.Appendf(nil, "%d", i*1000+j)}
			}
			if err := prod.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
				produced <- err
				return
			}
			time.Sleep(30 * time.Millisecond)
		}
		produced <- nil
	}()
	ta := &tally{seen: map[string]int{}}
	c1 := start848(t, n, "g848", "t848", ta, kgo.StickyBalancer())
	c2 := start848(t, n, "g848", "t848", ta, kgo.StickyBalancer())
	waitCount(t, ta, 5_000)
	c3 := start848(t, n, "g848", "t848", ta, kgo.StickyBalancer()) // joins late
	waitConsumerGroup(t, n, "g848", 3)
	waitCount(t, ta, 15_000)
	c1.close() // leaves
	waitConsumerGroup(t, n, "g848", 2)
	if err := <-produced; err != nil {
		t.Fatalf("produce: %v", err)
	}
	waitCount(t, ta, 30_000)
	c2.close()
	c3.close()
	for i, c := range []*consumer{c1, c2, c3} {
		if c.read.Load() == 0 {
			t.Errorf("consumer %d read nothing", i+1)
		}
	}
	if len(ta.dups) > 0 {
		t.Fatalf("%d records read twice, first %v", len(ta.dups), ta.dups[0])
	}
	sum := int64(0)
	for _, o := range committed(t, n, "g848", "t848") {
		sum += o
	}
	if sum != 30_000 {
		t.Fatalf("committed offsets add up to %d, want 30000", sum)
	}

	produce(t, prod, "t848", 30_000, 600)
	c4 := start848(t, n, "g848", "t848", ta, kgo.RangeBalancer())
	waitCount(t, ta, 30_600)
	c4.close()
	if len(ta.dups) > 0 {
		t.Fatalf("a new member re-read committed records: %v", ta.dups[0])
	}
}

// A classic group and a consumer group with other ids read the same
// topic side by side, and ListGroups tells them apart by type.
func TestClassicAndConsumerGroupsCoexist(t *testing.T) {
	n := nodetest.Start(t, fastConsumerGroups)
	createTopic(t, n, "shared", 3)
	prod := producer(t, n)
	classic, modern := &tally{seen: map[string]int{}}, &tally{seen: map[string]int{}}
	cc := startConsumer(t, n, "classic-g", "shared", "range", classic)
	mc := start848(t, n, "modern-g", "shared", modern, kgo.RangeBalancer())
	waitConsumerGroup(t, n, "modern-g", 1)
	produce(t, prod, "shared", 0, 900)
	waitCount(t, classic, 900)
	waitCount(t, modern, 900)

	adm := nodetest.Admin(t, n)
	for typ, want := range map[string]string{"consumer": "modern-g", "classic": "classic-g"} {
		ls, err := adm.ListGroupsByType(testCtx(t, 10*time.Second), []string{typ})
		if err != nil {
			t.Fatal(err)
		}
		if len(ls) != 1 || ls[want].Group != want || ls[want].ProtocolType != "consumer" {
			t.Fatalf("groups of type %s: %+v", typ, ls)
		}
	}
	if d := describe(t, n, "modern-g"); d.State != "Dead" {
		t.Fatalf("DescribeGroups of a consumer group: %+v", d)
	}
	cc.close()
	mc.close()
	if len(classic.dups)+len(modern.dups) > 0 {
		t.Fatal("records read twice")
	}
}

// A regex subscription picks up a topic created later, and a static
// member that restarts takes its assignment back from where it
// committed. (franz-go's static leave, epoch -2, carries no instance id,
// which Kafka refuses as INVALID_REQUEST, as Sluice does: the instance is
// released by its session timeout, short here.)
func TestConsumerProtocolRegexAndStatic(t *testing.T) {
	n := nodetest.Start(t, fastConsumerGroups, func(o *node.Options) { o.Groups.ConsumerSessionTimeout = time.Second })
	createTopic(t, n, "rx-a", 2)
	prod := producer(t, n)
	ta := &tally{seen: map[string]int{}}
	opts := []kgo.Opt{kgo.ConsumeRegex(), kgo.InstanceID("static-1"), kgo.MetadataMinAge(100 * time.Millisecond), kgo.MetadataMaxAge(200 * time.Millisecond)}
	c := start848(t, n, "grx", "rx-.*", ta, kgo.StickyBalancer(), opts...)
	waitConsumerGroup(t, n, "grx", 1)
	produce(t, prod, "rx-a", 0, 100)
	waitCount(t, ta, 100)
	createTopic(t, n, "rx-b", 2)
	produce(t, prod, "rx-b", 100, 100)
	waitCount(t, ta, 200)
	c.close() // a static member leaves with epoch -2

	produce(t, prod, "rx-a", 200, 100)
	c = start848(t, n, "grx", "rx-.*", ta, kgo.StickyBalancer(), opts...)
	waitCount(t, ta, 300)
	c.close()
	if len(ta.dups) > 0 {
		t.Fatalf("records read twice: %v", ta.dups[0])
	}
}

// A consumer group and its offsets outlive a broker restart: the group
// is reloaded from __consumer_offsets with its epoch, and a member
// resumes where the group committed.
func TestConsumerProtocolSurvivesRestart(t *testing.T) {
	r := nodetest.StartRestartable(t, fastConsumerGroups)
	createTopic(t, r.Node, "t", 2)
	prod, err := kgo.NewClient(kgo.SeedBrokers(r.Node.Addr()), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	produce(t, prod, "t", 0, 200)
	prod.Close()
	ta := &tally{seen: map[string]int{}}
	c := start848(t, r.Node, "g", "t", ta, kgo.RangeBalancer())
	waitCount(t, ta, 200)
	c.close()
	before, err := nodetest.Admin(t, r.Node).DescribeConsumerGroups(testCtx(t, 10*time.Second), "g")
	if err != nil {
		t.Fatal(err)
	}

	n := r.Restart()
	after, err := nodetest.Admin(t, n).DescribeConsumerGroups(testCtx(t, 10*time.Second), "g")
	if err != nil {
		t.Fatal(err)
	}
	if a, b := after["g"], before["g"]; a.Err != nil || a.State != "Empty" || a.Epoch != b.Epoch || a.AssignmentEpoch != b.AssignmentEpoch {
		t.Fatalf("after restart %+v, before %+v", a, b)
	}
	prod2 := producer(t, n)
	produce(t, prod2, "t", 200, 50)
	c = start848(t, n, "g", "t", ta, kgo.RangeBalancer())
	waitCount(t, ta, 250)
	c.close()
	if len(ta.dups) > 0 {
		t.Fatalf("records re-read after restart: %v", ta.dups[0])
	}
}
