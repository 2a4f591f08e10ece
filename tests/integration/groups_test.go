package integration

import (
	"context"
	"encoding/binary"
	"fmt"
	"maps"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-io/sluice/internal/node"
	"github.com/sluice-io/sluice/internal/node/nodetest"
)

// groupRecords is how many records each balancer's group consumes.
const groupRecords, groupPartitions = 500_000, 6

// TestGroupBalancersExactlyOnce: for each of franz-go's classic balancers
// (range, roundrobin, sticky, cooperative-sticky) and the KIP-848 consumer
// protocol (server-side uniform assignor) a group of three
// consumes a 6-partition topic while one member leaves after a third of
// the records and a new one joins after two thirds. Members commit what
// they polled when partitions are revoked (BlockRebalanceOnPoll, so no
// poll is half-processed), so every record is read exactly once.
func TestGroupBalancersExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("500k records per balancer: not in -short")
	}
	n := nodetest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	const topic = "balanced"
	if _, err := nodetest.Admin(t, n).CreateTopic(ctx, groupPartitions, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	produceIndexes(ctx, t, n, topic, groupRecords)
	for _, bal := range []struct {
		name       string
		b          kgo.GroupBalancer
		serverSide bool // KIP-848: the broker assigns (sticky = "uniform")
	}{
		{"range", kgo.RangeBalancer(), false},
		{"roundrobin", kgo.RoundRobinBalancer(), false},
		{"sticky", kgo.StickyBalancer(), false},
		{"cooperative-sticky", kgo.CooperativeStickyBalancer(), false},
		{"kip-848-uniform", kgo.StickyBalancer(), true},
	} {
		t.Run(bal.name, func(t *testing.T) {
			start := time.Now()
			g := newGroupRun(ctx, t, n, topic, "group-"+bal.name, bal.b)
			g.serverSide = bal.serverSide
			g.consumeWithChurn()
			t.Logf("%d records exactly once with a leave and a join in %v", groupRecords, time.Since(start))
		})
	}
}

// produceIndexes writes records 0..count-1, record i holding i as 8 bytes,
// round robin over the partitions.
func produceIndexes(ctx context.Context, t *testing.T, n *node.Node, topic string, count int) {
	t.Helper()
	prod := nodetest.Client(t, n, kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerLinger(5*time.Millisecond), kgo.MaxBufferedRecords(100_000))
	var failed atomic.Value
	for i := range count {
		r := &kgo.Record{Partition: int32(i % groupPartitions), Value: binary.BigEndian.AppendUint64(nil, uint64(i))}
		prod.Produce(ctx, r, func(_ *kgo.Record, err error) {
			if err != nil {
				failed.CompareAndSwap(nil, err)
			}
		})
	}
	if err := prod.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := failed.Load(); err != nil {
		t.Fatalf("produce: %v", err)
	}
}

// groupRun is one group consuming the topic; its members pause at
// holdAt records so the test can change membership at a known point.
type groupRun struct {
	ctx          context.Context
	t            *testing.T
	n            *node.Node
	topic, group string
	balancer     kgo.GroupBalancer
	serverSide   bool // KIP-848 consumer protocol

	counts   []atomic.Uint32 // reads per record index
	distinct atomic.Int64    // records read at least once
	holdAt   atomic.Int64    // members stop polling once distinct reaches it

	holdMu      sync.Mutex
	holdChanged chan struct{} // closed when holdAt changes

	mu    sync.Mutex
	owned map[string]map[int32]bool // member -> partitions it owns now
	err   error                     // first poll error of a member
}

func newGroupRun(ctx context.Context, t *testing.T, n *node.Node, topic, group string, b kgo.GroupBalancer) *groupRun {
	return &groupRun{ctx: ctx, t: t, n: n, topic: topic, group: group, balancer: b,
		counts: make([]atomic.Uint32, groupRecords), owned: map[string]map[int32]bool{},
		holdChanged: make(chan struct{})}
}

// consumeWithChurn runs the scenario: a, b, c consume; c leaves at a
// third; d joins at two thirds; then every record must have been read
// exactly once.
func (g *groupRun) consumeWithChurn() {
	g.setHold(groupRecords / 3)
	a, b, c := g.member("a"), g.member("b"), g.member("c")
	g.await("a third of the records", func() bool { return g.distinct.Load() >= groupRecords/3 })
	c.leave()
	g.await("a and b to own every partition", g.ownsAll("a", "b"))
	g.setHold(2 * groupRecords / 3)
	g.await("two thirds of the records", func() bool { return g.distinct.Load() >= 2*groupRecords/3 })
	d := g.member("d")
	g.await("d to join and a, b, d to own every partition", func() bool { return len(g.ownedBy("d")) > 0 && g.ownsAll("a", "b", "d")() })
	g.setHold(groupRecords)
	g.await("every record", func() bool { return g.distinct.Load() == groupRecords })
	for _, m := range []*member{a, b, d} {
		m.leave()
	}
	var twice []int
	for i := range g.counts {
		if g.counts[i].Load() != 1 && len(twice) < 10 {
			twice = append(twice, i)
		}
	}
	if len(twice) > 0 {
		g.t.Fatalf("records read more than once (first 10): %v", twice)
	}
}

// await polls cond (membership and counts have no single event to wait
// on) until it holds or the test's deadline passes.
func (g *groupRun) await(what string, cond func() bool) {
	g.t.Helper()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		g.mu.Lock()
		err := g.err
		g.mu.Unlock()
		if err != nil {
			g.t.Fatalf("waiting for %s: %v", what, err)
		}
		select {
		case <-g.ctx.Done():
			g.t.Fatalf("timed out waiting for %s: %d distinct records read, owned %v", what, g.distinct.Load(), g.snapshot())
		case <-tick.C:
		}
	}
}

func (g *groupRun) ownedBy(name string) map[int32]bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return maps.Clone(g.owned[name])
}

func (g *groupRun) snapshot() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return fmt.Sprint(g.owned)
}

// ownsAll reports whether names own every partition between them, each
// once.
func (g *groupRun) ownsAll(names ...string) func() bool {
	return func() bool {
		g.mu.Lock()
		defer g.mu.Unlock()
		union, sum := map[int32]bool{}, 0
		for _, n := range names {
			maps.Copy(union, g.owned[n])
			sum += len(g.owned[n])
		}
		return len(union) == groupPartitions && sum == groupPartitions
	}
}
