package group_test

// End-to-end tests: a real node (internal/node/nodetest) and franz-go
// group consumers, the way applications use consumer groups.

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-io/sluice/internal/node"
	"github.com/sluice-io/sluice/internal/node/nodetest"
)

func testCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func createTopic(t *testing.T, n *node.Node, topic string, partitions int32) {
	t.Helper()
	if _, err := nodetest.Admin(t, n).CreateTopic(testCtx(t, 10*time.Second), partitions, 1, nil, topic); err != nil {
		t.Fatalf("create topic: %v", err)
	}
}

// producer spreads records evenly over partitions.
func producer(t *testing.T, n *node.Node) *kgo.Client {
	return nodetest.Client(t, n, kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
}

// produce writes count records spread over the topic's partitions and
// returns their values.
func produce(t *testing.T, cl *kgo.Client, topic string, from, count int) {
	t.Helper()
	recs := make([]*kgo.Record, count)
	for i := range recs {
		recs[i] = &kgo.Record{Topic: topic, Value: fmt.Appendf(nil, "%d", from+i)}
	}
	if err := cl.ProduceSync(testCtx(t, 10*time.Second), recs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
}

// tally records what every consumer of a test read.
type tally struct {
	mu   sync.Mutex
	seen map[string]int // value -> times read
	dups []string
}

func (ta *tally) add(v string) {
	ta.mu.Lock()
	defer ta.mu.Unlock()
	if ta.seen[v]++; ta.seen[v] > 1 {
		ta.dups = append(ta.dups, v)
	}
}

func (ta *tally) count() int {
	ta.mu.Lock()
	defer ta.mu.Unlock()
	return len(ta.seen)
}

// consumer is a group member that processes each poll, commits it and
// only then lets a rebalance happen: no record is ever read twice.
type consumer struct {
	cl   *kgo.Client
	read atomic.Int64
	stop chan struct{}
	done chan struct{}
}

func startConsumer(t *testing.T, n *node.Node, group, topic, balancer string, ta *tally) *consumer {
	t.Helper()
	var b kgo.GroupBalancer
	switch balancer {
	case "range":
		b = kgo.RangeBalancer()
	case "roundrobin":
		b = kgo.RoundRobinBalancer()
	case "sticky":
		b = kgo.StickyBalancer()
	case "cooperative-sticky":
		b = kgo.CooperativeStickyBalancer()
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(n.Addr()), kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
		kgo.Balancers(b), kgo.DisableAutoCommit(), kgo.BlockRebalanceOnPoll(),
		kgo.HeartbeatInterval(100*time.Millisecond), kgo.FetchMaxWait(100*time.Millisecond),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
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
			fs := cl.PollRecords(ctx, 50)
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

// close stops polling, then leaves the group (LeaveGroup).
func (c *consumer) close() {
	close(c.stop)
	<-c.done
	c.cl.Close()
}

func waitCount(t *testing.T, ta *tally, want int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for ta.count() < want {
		if time.Now().After(deadline) {
			t.Fatalf("read %d distinct records, want %d", ta.count(), want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestGroupConsumersBalancers(t *testing.T) {
	n := nodetest.Start(t)
	prod := producer(t, n)
	for _, bal := range []string{"range", "roundrobin", "sticky", "cooperative-sticky"} {
		t.Run(bal, func(t *testing.T) {
			topic, group := "t-"+bal, "g-"+bal
			createTopic(t, n, topic, 6)
			ta := &tally{seen: map[string]int{}}
			c1 := startConsumer(t, n, group, topic, bal, ta)
			c2 := startConsumer(t, n, group, topic, bal, ta)
			waitMembers(t, n, group, 2)
			produce(t, prod, topic, 0, 300)
			waitCount(t, ta, 300)
			c3 := startConsumer(t, n, group, topic, bal, ta) // a member joins
			produce(t, prod, topic, 300, 300)
			waitMembers(t, n, group, 3)
			waitCount(t, ta, 600)
			c1.close() // a member leaves
			produce(t, prod, topic, 600, 300)
			waitMembers(t, n, group, 2)
			waitCount(t, ta, 900)
			c2.close()
			c3.close()
			for i, c := range []*consumer{c1, c2, c3} {
				if c.read.Load() == 0 {
					t.Errorf("consumer %d read nothing", i+1)
				}
			}
			if len(ta.dups) > 0 {
				t.Fatalf("records read twice: %v", ta.dups)
			}
			groupsDescribed := describe(t, n, group)
			if groupsDescribed.State != "Empty" {
				t.Fatalf("group after every member left: %s", groupsDescribed.State)
			}
		})
	}
}

func describe(t *testing.T, n *node.Node, group string) kadm.DescribedGroup {
	t.Helper()
	ds, err := nodetest.Admin(t, n).DescribeGroups(testCtx(t, 10*time.Second), group)
	if err != nil {
		t.Fatalf("describe: %v", err)
	}
	return ds[group]
}

// waitMembers waits until the group is Stable with n members.
func waitMembers(t *testing.T, n *node.Node, group string, members int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		d := describe(t, n, group)
		if d.State == "Stable" && len(d.Members) == members {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("group %s is %s with %d members, want Stable with %d", group, d.State, len(d.Members), members)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// committed reads a group's offsets through the admin API.
func committed(t *testing.T, n *node.Node, group, topic string) map[int32]int64 {
	t.Helper()
	os, err := nodetest.Admin(t, n).FetchOffsets(testCtx(t, 10*time.Second), group)
	if err != nil {
		t.Fatalf("fetch offsets: %v", err)
	}
	out := map[int32]int64{}
	for p, o := range os[topic] {
		out[p] = o.At
	}
	return out
}

func TestCommittedOffsetsAreResumed(t *testing.T) {
	n := nodetest.Start(t)
	createTopic(t, n, "t", 3)
	prod := producer(t, n)
	produce(t, prod, "t", 0, 90)
	ta := &tally{seen: map[string]int{}}
	c := startConsumer(t, n, "g", "t", "range", ta)
	waitCount(t, ta, 90)
	c.close()
	got := committed(t, n, "g", "t")
	if len(got) != 3 || got[0]+got[1]+got[2] != 90 {
		t.Fatalf("committed offsets %v, want 90 records' worth", got)
	}
	produce(t, prod, "t", 90, 30)
	c = startConsumer(t, n, "g", "t", "range", ta)
	waitCount(t, ta, 120)
	c.close()
	if len(ta.dups) > 0 {
		t.Fatalf("a new consumer re-read committed records: %v", ta.dups)
	}
}

func TestOffsetsSurviveRestart(t *testing.T) {
	r := nodetest.StartRestartable(t)
	createTopic(t, r.Node, "t", 2)
	prod, err := kgo.NewClient(kgo.SeedBrokers(r.Node.Addr()), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	produce(t, prod, "t", 0, 40)
	prod.Close()
	ta := &tally{seen: map[string]int{}}
	c := startConsumer(t, r.Node, "g", "t", "range", ta)
	waitCount(t, ta, 40)
	c.close()
	before := committed(t, r.Node, "g", "t")

	n := r.Restart()
	if got := committed(t, n, "g", "t"); len(got) != 2 || got[0] != before[0] || got[1] != before[1] {
		t.Fatalf("offsets after restart %v, before %v", got, before)
	}
	prod2 := producer(t, n)
	produce(t, prod2, "t", 40, 10)
	c = startConsumer(t, n, "g", "t", "range", ta)
	waitCount(t, ta, 50)
	c.close()
	if len(ta.dups) > 0 {
		t.Fatalf("records re-read after restart: %v", ta.dups)
	}
	if d := describe(t, n, "g"); d.State != "Empty" || d.ProtocolType != "consumer" {
		t.Fatalf("group after restart: %+v", d)
	}
}
