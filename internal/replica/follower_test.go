package replica

import (
	"bytes"
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"github.com/sluice-io/sluice/internal/batch"
	"github.com/sluice-io/sluice/internal/model"
	"github.com/sluice-io/sluice/internal/storage/storagetest"
)

var replicas3 = []model.NodeID{1, 2, 3}

// follower opens a partition that follows broker 1 at epoch.
func followerAt(t *testing.T, epoch model.LeaderEpoch) *Partition {
	t.Helper()
	p := openPartition(t, filepath.Join(t.TempDir(), "t-0"), testPartitionConfig())
	p.MakeFollower(FollowerState{LeaderEpoch: epoch, PartitionEpoch: 1}, testNow)
	return p
}

// logBytes reads the partition's whole log from off.
func logBytes(t *testing.T, p *Partition, off model.Offset) []byte {
	t.Helper()
	var out []byte
	for off < p.LogEndOffset() {
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

// replicate copies the leader's log from the follower's end, in fetches
// of about maxBytes, as a fetcher would.
func replicate(t *testing.T, leader, f *Partition, maxBytes int32) {
	t.Helper()
	for f.LogEndOffset() < leader.LogEndOffset() {
		c, err := leader.Log().Read(f.LogEndOffset(), maxBytes, true)
		if err != nil {
			t.Fatal(err)
		}
		b := make([]byte, c.Size)
		if _, err := c.ReadAt(b, 0); err != nil {
			t.Fatal(err)
		}
		if err := f.AppendAsFollower(FollowerData{LeaderEpoch: f.LeaderEpoch(), Batches: b,
			HighWatermark: leader.HighWatermark(), LogStart: leader.LogStartOffset()}, testNow); err != nil {
			t.Fatal(err)
		}
	}
}

// I5: a follower that appends the leader's batches holds the same log,
// producer state, open transactions (LSO) and aborted-transaction index,
// and once it leads it deduplicates a retry of a batch the old leader
// wrote.
func TestFollowerAppendRebuildsProducerStateAndTxnIndex(t *testing.T) {
	leader := openPartition(t, filepath.Join(t.TempDir(), "t-0"), testPartitionConfig())
	runTxnSteps(t, leader, txnScenario)
	appendIdem(t, leader, 5, 0, 0, 3, leader.LogEndOffset(), nil)
	lastIdem := leader.LogEndOffset() - 3

	f := followerAt(t, 0)
	replicate(t, leader, f, 200) // several fetches, batches split across them
	if !bytes.Equal(logBytes(t, f, 0), logBytes(t, leader, 0)) {
		t.Fatal("follower log differs from the leader's")
	}
	if hw, lso := f.ReadView(); hw != leader.HighWatermark() || lso != leader.LastStableOffset() {
		t.Fatalf("follower HW %d LSO %d, leader %d %d", hw, lso, leader.HighWatermark(), leader.LastStableOffset())
	}
	la, _ := leader.AbortedTxns(0, leader.LogEndOffset())
	fa, _ := f.AbortedTxns(0, f.LogEndOffset())
	if len(la) == 0 || !slices.Equal(la, fa) {
		t.Fatalf("aborted transactions: follower %v, leader %v", fa, la)
	}
	lp, _ := leader.ActiveProducers(testNow)
	fp, _ := f.ActiveProducers(testNow)
	if !slices.Equal(lp, fp) {
		t.Fatalf("producers: follower %+v, leader %+v", fp, lp)
	}
	if !slices.Equal(f.Log().LeaderEpochs(), leader.Log().LeaderEpochs()) {
		t.Fatalf("epochs: follower %v, leader %v", f.Log().LeaderEpochs(), leader.Log().LeaderEpochs())
	}
	// The follower takes over; the producer retries its last batch.
	if _, err := f.MakeLeader(LeaderState{Local: 2, LeaderEpoch: 1, PartitionEpoch: 2, Replicas: replicas3, ISR: []model.NodeID{2}}, testNow); err != nil {
		t.Fatal(err)
	}
	appendIdem(t, f, 5, 0, 0, 3, lastIdem, nil)
	if f.LogEndOffset() != leader.LogEndOffset() {
		t.Fatal("the retry was appended again on the new leader")
	}
	appendIdem(t, f, 2, 0, 2, 1, 0, ErrInvalidTxnState) // producer 2's transaction is still open there
}

// I3: data fetched under an older leader epoch is dropped.
func TestFollowerAppendUnderStaleEpochDropped(t *testing.T) {
	f := followerAt(t, 3)
	b := storagetest.Batch(2, 8, testNow)
	batch.SetLeaderEpoch(b, 2)
	err := f.AppendAsFollower(FollowerData{LeaderEpoch: 2, Batches: b, HighWatermark: 2}, testNow)
	if !errors.Is(err, ErrStaleLeaderEpoch) {
		t.Fatalf("append of epoch-2 data at epoch 3: %v, want ErrStaleLeaderEpoch", err)
	}
	if f.LogEndOffset() != 0 {
		t.Fatal("stale data appended")
	}
	leader := openPartition(t, filepath.Join(t.TempDir(), "l-0"), testPartitionConfig())
	appendN(t, leader, 2, false)
	if err := leader.AppendAsFollower(FollowerData{LeaderEpoch: 0, Batches: b}, testNow); !errors.Is(err, ErrStaleLeaderEpoch) {
		t.Fatalf("follower append on a leader: %v, want ErrStaleLeaderEpoch", err)
	}
}

// The follower's HW is the leader's, capped by its own log end; consumers
// of the follower (after it leads) never see past it.
func TestFollowerHighWatermark(t *testing.T) {
	leader := openPartition(t, filepath.Join(t.TempDir(), "l-0"), testPartitionConfig())
	appendN(t, leader, 10, false)
	f := followerAt(t, 0)
	c, _ := leader.Log().Read(0, 1<<20, true)
	b := make([]byte, c.Size)
	c.ReadAt(b, 0)
	if err := f.AppendAsFollower(FollowerData{LeaderEpoch: 0, Batches: b, HighWatermark: 4}, testNow); err != nil {
		t.Fatal(err)
	}
	if hw := f.HighWatermark(); hw != 4 {
		t.Fatalf("follower HW %d, want the leader's 4", hw)
	}
	if err := f.AppendAsFollower(FollowerData{LeaderEpoch: 0, HighWatermark: 50}, testNow); err != nil {
		t.Fatal(err)
	}
	if hw := f.HighWatermark(); hw != 10 {
		t.Fatalf("follower HW %d, want its log end 10", hw)
	}
	// I4: promoted, it keeps that HW; a follower's fetch moves it on.
	if _, err := f.MakeLeader(LeaderState{Local: 2, LeaderEpoch: 1, PartitionEpoch: 2, Replicas: replicas3, ISR: replicas3}, testNow); err != nil {
		t.Fatal(err)
	}
	if hw := f.HighWatermark(); hw != 10 {
		t.Fatalf("new leader HW %d, want 10", hw)
	}
}

// A diverged follower truncates; its producer state is rebuilt from what
// is left, so a retried batch beyond the cut is appended again.
func TestFollowerTruncationRebuildsState(t *testing.T) {
	leader := openPartition(t, filepath.Join(t.TempDir(), "l-0"), testPartitionConfig())
	appendIdem(t, leader, 7, 0, 0, 2, 0, nil)
	appendIdem(t, leader, 7, 0, 2, 2, 2, nil)
	f := followerAt(t, 0)
	replicate(t, leader, f, 1<<20)
	if err := f.TruncateTo(2); err != nil {
		t.Fatal(err)
	}
	if f.LogEndOffset() != 2 || f.HighWatermark() > 2 {
		t.Fatalf("after truncation: end %d HW %d", f.LogEndOffset(), f.HighWatermark())
	}
	if _, err := f.MakeLeader(LeaderState{Local: 2, LeaderEpoch: 1, PartitionEpoch: 2, Replicas: replicas3, ISR: []model.NodeID{2}}, testNow); err != nil {
		t.Fatal(err)
	}
	appendIdem(t, f, 7, 0, 2, 2, 2, nil) // not a duplicate any more: written at 2
	if err := f.TruncateFullyAndStartAt(100); err != nil {
		t.Fatal(err)
	}
	if f.LogStartOffset() != 100 || f.LogEndOffset() != 100 {
		t.Fatalf("after full truncation: start %d end %d", f.LogStartOffset(), f.LogEndOffset())
	}
	if got := f.Log().LeaderEpochs(); len(got) != 0 {
		t.Fatalf("epochs after full truncation: %v", got)
	}
}

// The leader's log start moves the follower's, never past the HW.
func TestFollowerFollowsLogStart(t *testing.T) {
	leader := openPartition(t, filepath.Join(t.TempDir(), "l-0"), testPartitionConfig())
	appendN(t, leader, 10, false)
	f := followerAt(t, 0)
	replicate(t, leader, f, 1<<20)
	if err := f.AppendAsFollower(FollowerData{LeaderEpoch: 0, HighWatermark: 6, LogStart: 8}, testNow); err != nil {
		t.Fatal(err)
	}
	if s := f.LogStartOffset(); s != 6 {
		t.Fatalf("log start %d, want 6 (the HW)", s)
	}
}
