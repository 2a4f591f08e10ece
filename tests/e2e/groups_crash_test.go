package e2e

import (
	"context"
	"maps"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestKill9KeepsGroupsAndOffsets: offsets committed before a kill -9 of
// the broker are committed after its restart, and group membership
// survives it: a static member (group.instance.id, KIP-345) keeps its
// member id and generation through the restart without a rebalance, and a
// new incarnation with the same instance id takes its place in the same
// generation and resumes from the committed offsets, re-reading nothing.
func TestKill9KeepsGroupsAndOffsets(t *testing.T) {
	t.Parallel()
	b := startBroker(t, groupSettings...)
	const topic, group, parts = "crash-group", "static", 3
	createTopic(t, b, topic, parts)
	produceRange(t, b, topic, parts, 0, 300)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	c1 := staticMember(t, b, topic, group)
	defer c1.Close()
	pollValues(ctx, t, c1, 0, 300)
	if err := c1.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatalf("commit: %v", err)
	}
	memberID, gen := c1.GroupMetadata()
	before := committedOffsets(ctx, t, b, group)
	if total(before) != 300 {
		t.Fatalf("committed %v before the kill, want 100 on each partition", before)
	}

	b.kill9()
	b.restart()
	if after := committedOffsets(ctx, t, b, group); !maps.Equal(before, after) {
		t.Fatalf("committed offsets before kill -9 %v, after restart %v", before, after)
	}
	adm := newAdmin(t, b)
	dgs, err := adm.DescribeGroups(ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	dg := dgs[group]
	if dg.Err != nil || len(dg.Members) != 1 || dg.Members[0].MemberID != memberID ||
		dg.Members[0].InstanceID == nil || *dg.Members[0].InstanceID != "static-1" {
		t.Fatalf("group after restart: %+v (err %v), want static-1 as member %s", dg, dg.Err, memberID)
	}

	produceRange(t, b, topic, parts, 300, 360)
	pollValues(ctx, t, c1, 300, 360)
	if m, g := c1.GroupMetadata(); m != memberID || g != gen {
		t.Errorf("static member after restart is %s generation %d, before %s generation %d", m, g, memberID, gen)
	}
	if err := c1.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatalf("commit after restart: %v", err)
	}
	c1.Close() // a static member does not leave the group on close

	c2 := staticMember(t, b, topic, group)
	defer c2.Close()
	produceRange(t, b, topic, parts, 360, 390)
	pollValues(ctx, t, c2, 360, 390)
	if _, g := c2.GroupMetadata(); g != gen {
		t.Errorf("new incarnation of static-1 joined generation %d, want %d (no rebalance)", g, gen)
	}
}

// staticMember is a franz-go group consumer with group.instance.id
// static-1 that commits only when told.
func staticMember(t *testing.T, b *broker, topic, group string) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr), kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
		kgo.InstanceID("static-1"), kgo.SessionTimeout(30*time.Second), kgo.DisableAutoCommit(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// pollValues reads from cl until it has read exactly the values lo..hi-1:
// any other value (a record read again) fails the test.
func pollValues(ctx context.Context, t *testing.T, cl *kgo.Client, lo, hi int) {
	t.Helper()
	seen := map[int]bool{}
	for len(seen) < hi-lo {
		fs := cl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatalf("poll after %d of %d..%d: %v", len(seen), lo, hi-1, err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			v, _ := strconv.Atoi(string(r.Value))
			if v < lo || v >= hi || seen[v] {
				t.Fatalf("read record %d (partition %d offset %d) while expecting each of %d..%d once", v, r.Partition, r.Offset, lo, hi-1)
			}
			seen[v] = true
		})
	}
}

// committedOffsets fetches group's committed offsets, retrying while the
// coordinator loads after a restart.
func committedOffsets(ctx context.Context, t *testing.T, b *broker, group string) map[int32]int64 {
	t.Helper()
	adm := newAdmin(t, b)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		offs, err := adm.FetchOffsets(ctx, group)
		if err == nil {
			err = offs.Error()
		}
		if err == nil {
			out := map[int32]int64{}
			offs.Each(func(o kadm.OffsetResponse) { out[o.Partition] = o.At })
			return out
		}
		select {
		case <-ctx.Done():
			t.Fatalf("fetch offsets of %s: %v", group, err)
		case <-tick.C:
		}
	}
}

func total(offs map[int32]int64) int64 {
	var sum int64
	for _, o := range offs {
		sum += o
	}
	return sum
}
