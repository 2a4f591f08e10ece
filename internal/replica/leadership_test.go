package replica

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/sluice-io/sluice/internal/model"
	"github.com/sluice-io/sluice/internal/storage"
	"github.com/sluice-io/sluice/internal/storage/storagetest"
)

// leaderOf3 opens a partition led by broker 1 with followers 2 and 3, all
// in the ISR, and min.insync.replicas minISR.
func leaderOf3(t *testing.T, minISR int32, isr ...model.NodeID) *Partition {
	t.Helper()
	cfg := testPartitionConfig()
	cfg.MinInsyncReplicas = minISR
	p := openPartition(t, filepath.Join(t.TempDir(), "t-0"), cfg)
	if len(isr) == 0 {
		isr = []model.NodeID{1, 2, 3}
	}
	if _, err := p.MakeLeader(LeaderState{Local: 1, LeaderEpoch: 1, PartitionEpoch: 1,
		Replicas: []model.NodeID{1, 2, 3}, ISR: isr}, testNow); err != nil {
		t.Fatal(err)
	}
	return p
}

func appendN(t *testing.T, p *Partition, n int, acksAll bool) model.Offset {
	t.Helper()
	base, _, err := p.AppendHeld(storagetest.Batch(n, 8, testNow), testNow, AppendOptions{AcksAll: acksAll})
	if err != nil {
		t.Fatal(err)
	}
	return base + model.Offset(n)
}

func fetched(t *testing.T, p *Partition, id model.NodeID, off model.Offset) {
	t.Helper()
	if err := p.UpdateFollowerFetch(FollowerFetch{Replica: id, FetchOffset: off, BrokerEpoch: 7}, testNow); err != nil {
		t.Fatal(err)
	}
}

// I1: the HW is the smallest offset the members of the ISR hold, and a
// consumer reads nothing past it.
func TestHWIsMinOfMaximalISR(t *testing.T) {
	p := leaderOf3(t, 1)
	end := appendN(t, p, 10, false)
	if hw := p.HighWatermark(); hw != 0 {
		t.Fatalf("HW %d before any follower fetched, want 0", hw)
	}
	if c, err := p.Read(0, 1<<20, true); err != nil || !c.Empty() {
		t.Fatalf("read past the HW: %d bytes, %v", c.Size, err)
	}
	fetched(t, p, 2, 10)
	if hw := p.HighWatermark(); hw != 0 {
		t.Fatalf("HW %d with follower 3 unknown, want 0", hw)
	}
	fetched(t, p, 3, 4)
	if hw := p.HighWatermark(); hw != 4 {
		t.Fatalf("HW %d, want 4 (follower 3's offset)", hw)
	}
	fetched(t, p, 3, end)
	if hw := p.HighWatermark(); hw != end {
		t.Fatalf("HW %d, want %d", hw, end)
	}
	// A follower that goes back (it truncated) never moves the HW down.
	fetched(t, p, 2, 3)
	if hw := p.HighWatermark(); hw != end {
		t.Fatalf("HW went down to %d", hw)
	}
}

// I1 strict: under the min ISR the HW stays where it is, even for acks=1
// writes every remaining member holds.
func TestHWHeldWhileUnderMinISR(t *testing.T) {
	p := leaderOf3(t, 2, 1)
	end := appendN(t, p, 5, false)
	fetched(t, p, 2, end)
	fetched(t, p, 3, end)
	if hw := p.HighWatermark(); hw != 0 {
		t.Fatalf("HW %d with ISR {1} under min ISR 2, want 0", hw)
	}
	// ISR {1,2}: at the min, the HW follows.
	if _, err := p.MakeLeader(LeaderState{Local: 1, LeaderEpoch: 1, PartitionEpoch: 2,
		Replicas: []model.NodeID{1, 2, 3}, ISR: []model.NodeID{1, 2}}, testNow); err != nil {
		t.Fatal(err)
	}
	fetched(t, p, 2, end)
	if hw := p.HighWatermark(); hw != end {
		t.Fatalf("HW %d at min ISR, want %d", hw, end)
	}
}

func TestAcksAllWaitsForFollowerOffset(t *testing.T) {
	p := leaderOf3(t, 2)
	end := appendN(t, p, 3, true)
	done := make(chan error, 1)
	go func() { done <- p.WaitCommitted(context.Background(), end) }()
	fetched(t, p, 2, end)
	short, cancelShort := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancelShort()
	if err := p.WaitCommitted(short, end); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("acks=all answered (%v) before follower 3 had the batch", err)
	}
	fetched(t, p, 3, end)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("acks=all not answered once every ISR member had the batch")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := p.WaitCommitted(ctx, end+1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("wait past the log end: %v, want the context's deadline", err)
	}
}

func TestNotEnoughReplicasBeforeAppend(t *testing.T) {
	p := leaderOf3(t, 2, 1)
	_, _, err := p.AppendHeld(storagetest.Batch(1, 8, testNow), testNow, AppendOptions{AcksAll: true})
	if !errors.Is(err, ErrNotEnoughReplicas) {
		t.Fatalf("acks=all under min ISR: %v, want ErrNotEnoughReplicas", err)
	}
	if _, err := p.AppendTxnMarker(TxnMarker{ProducerID: 9, Commit: true}, testNow); !errors.Is(err, ErrNotEnoughReplicas) {
		t.Fatalf("marker under min ISR: %v, want ErrNotEnoughReplicas", err)
	}
	if end := p.LogEndOffset(); end != 0 {
		t.Fatalf("log end %d: a refused batch was written", end)
	}
	appendN(t, p, 1, false) // acks=1 is written
}

func TestNotEnoughReplicasAfterAppend(t *testing.T) {
	p := leaderOf3(t, 2, 1, 2)
	end := appendN(t, p, 2, true)
	fetched(t, p, 2, end)
	// The controller shrinks the ISR; the HW already passed the batch.
	if _, err := p.MakeLeader(LeaderState{Local: 1, LeaderEpoch: 1, PartitionEpoch: 2,
		Replicas: []model.NodeID{1, 2, 3}, ISR: []model.NodeID{1}}, testNow); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitCommitted(context.Background(), end); !errors.Is(err, ErrNotEnoughReplicasAfterAppend) {
		t.Fatalf("wait: %v, want ErrNotEnoughReplicasAfterAppend", err)
	}
}

func TestDemotionFailsCommitWaiters(t *testing.T) {
	p := leaderOf3(t, 1)
	end := appendN(t, p, 2, true)
	done := make(chan error, 1)
	go func() { done <- p.WaitCommitted(context.Background(), end) }() // waiting or not yet: the same outcome
	p.MakeFollower(FollowerState{LeaderEpoch: 2, PartitionEpoch: 2}, testNow)
	select {
	case err := <-done:
		if !errors.Is(err, ErrNotLeader) {
			t.Fatalf("wait after demotion: %v, want ErrNotLeader", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("demotion did not end the wait")
	}
	if _, _, err := p.AppendHeld(storagetest.Batch(1, 8, testNow), testNow, AppendOptions{}); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("append on a follower: %v, want ErrNotLeader", err)
	}
	if err := p.UpdateFollowerFetch(FollowerFetch{Replica: 3, FetchOffset: 1}, testNow); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("follower fetch on a follower: %v, want ErrNotLeader", err)
	}
}

// I3: a new leader records its epoch at its log end before serving, so
// a follower with entries of a lost later epoch truncates to it.
func TestMakeLeaderAssignsEpochAtLEO(t *testing.T) {
	p := leaderOf3(t, 1)
	appendN(t, p, 4, false)
	p.MakeFollower(FollowerState{LeaderEpoch: 2, PartitionEpoch: 2}, testNow)
	if _, err := p.MakeLeader(LeaderState{Local: 1, LeaderEpoch: 3, PartitionEpoch: 3,
		Replicas: []model.NodeID{1, 2, 3}, ISR: []model.NodeID{1, 2, 3}}, testNow); err != nil {
		t.Fatal(err)
	}
	want := []storage.EpochEntry{{Epoch: 1, StartOffset: 0}, {Epoch: 3, StartOffset: 4}}
	if got := p.Log().LeaderEpochs(); !slices.Equal(got, want) {
		t.Fatalf("epochs %v, want %v", got, want)
	}
	if e := p.LeaderEpoch(); e != 3 {
		t.Fatalf("leader epoch %d, want 3", e)
	}
	// An older partition epoch changes nothing.
	if changed, _ := p.MakeLeader(LeaderState{Local: 1, LeaderEpoch: 9, PartitionEpoch: 2,
		Replicas: []model.NodeID{1}, ISR: []model.NodeID{1}}, testNow); changed || p.LeaderEpoch() != 3 {
		t.Fatalf("a stale state was applied: epoch %d", p.LeaderEpoch())
	}
}

func TestFollowerFetchChecks(t *testing.T) {
	p := leaderOf3(t, 1)
	if err := p.UpdateFollowerFetch(FollowerFetch{Replica: 4, FetchOffset: 0, BrokerEpoch: -1}, testNow); !errors.Is(err, ErrUnknownReplica) {
		t.Fatalf("fetch from broker 4: %v, want ErrUnknownReplica", err)
	}
	fetched(t, p, 2, 0) // broker epoch 7
	if err := p.UpdateFollowerFetch(FollowerFetch{Replica: 2, FetchOffset: 0, BrokerEpoch: 6}, testNow); !errors.Is(err, ErrStaleBrokerEpoch) {
		t.Fatalf("fetch from an older broker epoch: %v, want ErrStaleBrokerEpoch", err)
	}
	// A fetch without an epoch (-1) is taken but forgets none: the older
	// process stays refused.
	if err := p.UpdateFollowerFetch(FollowerFetch{Replica: 2, FetchOffset: 0, BrokerEpoch: -1}, testNow); err != nil {
		t.Fatal(err)
	}
	if err := p.UpdateFollowerFetch(FollowerFetch{Replica: 2, FetchOffset: 0, BrokerEpoch: 6}, testNow); !errors.Is(err, ErrStaleBrokerEpoch) {
		t.Fatalf("fetch from an older broker epoch after one without: %v, want ErrStaleBrokerEpoch", err)
	}
}

// One replica: the leader alone is the ISR and the HW is the log end at
// each append, as before replication (I7).
func TestSingleReplicaHWIsLogEnd(t *testing.T) {
	p := openPartition(t, filepath.Join(t.TempDir(), "t-0"), testPartitionConfig())
	end := appendN(t, p, 3, true)
	if hw := p.HighWatermark(); hw != end {
		t.Fatalf("HW %d, want %d", hw, end)
	}
	if err := p.WaitCommitted(context.Background(), end); err != nil {
		t.Fatal(err)
	}
}
