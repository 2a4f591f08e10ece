package replica

import (
	"errors"
	"testing"

	"github.com/sluice-io/sluice/internal/model"
)

// A proposed expansion counts toward the HW until its outcome is known:
// the same partition state applied again, an answer that does not say,
// or INVALID_UPDATE_VERSION (maybe the answer to a resend of a committed
// proposal) keep it pending, and it is sent again after the back-off;
// only a refusal or a newer partition state ends it. Before, a re-applied
// image or a refused resend dropped it, and the leader acknowledged
// records the member it had added lacked (the fault suite lost two
// acknowledged records when that member was elected next).
func TestPendingExpansionHoldsTheHW(t *testing.T) {
	p := leaderOf3(t, 1, 1, 2)
	var sent []ISRChange
	p.SetISRProposer(func(ch ISRChange) { sent = append(sent, ch) })
	end := appendN(t, p, 10, false)
	fetched(t, p, 2, end)
	fetched(t, p, 3, end)
	if len(sent) != 1 || len(sent[0].ISR) != 3 {
		t.Fatalf("proposals %+v, want one adding 3", sent)
	}
	if sent[0].BrokerEpochs[2] != 7 {
		t.Fatalf("the proposal carries broker epochs %v, want 3's (7)", sent[0].BrokerEpochs)
	}
	end2 := appendN(t, p, 5, false)
	hwHeld := func(what string) {
		t.Helper()
		fetched(t, p, 2, end2)
		if hw := p.HighWatermark(); hw != end {
			t.Fatalf("%s: HW %d, want %d (3, proposed for the ISR, holds only that)", what, hw, end)
		}
	}
	hwHeld("pending")
	if _, err := p.MakeLeader(LeaderState{Local: 1, LeaderEpoch: 1, PartitionEpoch: 1,
		Replicas: []model.NodeID{1, 2, 3}, ISR: []model.NodeID{1, 2}}, testNow); err != nil {
		t.Fatal(err)
	}
	hwHeld("the same partition state applied again")
	p.ISRProposalFailed(1, false, testNow)
	hwHeld("an unknown outcome")
	p.MaybeShrinkISR(testNow + isrRetryBackoffMs - 1)
	if len(sent) != 1 {
		t.Fatalf("resent before the back-off: %d proposals", len(sent))
	}
	p.MaybeShrinkISR(testNow + isrRetryBackoffMs)
	if len(sent) != 2 || len(sent[1].ISR) != 3 {
		t.Fatalf("after the back-off: proposals %+v, want the same one again", sent)
	}
	p.ISRProposalFailed(1, true, testNow+isrRetryBackoffMs) // refused: it was not committed
	fetched(t, p, 3, end)                                   // caught up to the previous end only
	p.MaybeShrinkISR(testNow + 3*isrRetryBackoffMs)
	if len(sent) != 2 {
		t.Fatalf("a refused proposal was sent again: %+v", sent)
	}
	if _, err := p.MakeLeader(LeaderState{Local: 1, LeaderEpoch: 1, PartitionEpoch: 2,
		Replicas: []model.NodeID{1, 2, 3}, ISR: []model.NodeID{1, 2, 3}}, testNow); err != nil {
		t.Fatal(err)
	}
	fetched(t, p, 3, end2)
	if hw := p.HighWatermark(); hw != end2 {
		t.Fatalf("with 3 in the ISR: HW %d, want %d", hw, end2)
	}
}

// R6: a leader whose ISR is itself alone holds its HW while its broker's
// controller lease is not held, and moves it once the lease is back (the
// periodic ISR check recomputes it); a partition without other replicas
// needs no lease.
func TestISROfOneHoldsTheHWWithoutTheLease(t *testing.T) {
	held := false
	p := leaderOf3(t, 1, 1)
	p.SetLease(func() bool { return held })
	end := appendN(t, p, 10, false)
	if hw := p.HighWatermark(); hw != 0 {
		t.Fatalf("HW %d without the lease, want 0", hw)
	}
	held = true
	p.MaybeShrinkISR(testNow)
	if hw := p.HighWatermark(); hw != end {
		t.Fatalf("HW %d with the lease back, want %d", hw, end)
	}

	alone := openPartition(t, t.TempDir()+"/a-0", testPartitionConfig())
	if _, err := alone.MakeLeader(LeaderState{Local: 1, LeaderEpoch: 1, PartitionEpoch: 1,
		Replicas: []model.NodeID{1}, ISR: []model.NodeID{1}}, testNow); err != nil {
		t.Fatal(err)
	}
	alone.SetLease(func() bool { return false })
	if end := appendN(t, alone, 3, false); alone.HighWatermark() != end {
		t.Fatalf("a partition of one replica: HW %d, want %d", alone.HighWatermark(), end)
	}
}

// An acks=all wait is for the leader epoch read before the append: a
// replica that lost and won back the leadership in between (it may have
// truncated the records away meanwhile) fails the wait though its HW is
// past them.
func TestWaitCommittedAtTheAppendsEpoch(t *testing.T) {
	p := leaderOf3(t, 1, 1)
	epoch := p.LeaderEpoch()
	end := appendN(t, p, 5, true)
	if changed := p.MakeFollower(FollowerState{LeaderEpoch: epoch + 1, PartitionEpoch: 2}, testNow); !changed {
		t.Fatal("the leader epoch did not change")
	}
	if _, err := p.MakeLeader(LeaderState{Local: 1, LeaderEpoch: epoch + 2, PartitionEpoch: 3,
		Replicas: []model.NodeID{1, 2, 3}, ISR: []model.NodeID{1}}, testNow); err != nil {
		t.Fatal(err)
	}
	if hw := p.HighWatermark(); hw < end {
		t.Fatalf("HW %d below %d", hw, end)
	}
	if err := p.WaitCommittedAt(t.Context(), end, epoch); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("wait across a change of leadership: %v, want ErrNotLeader", err)
	}
}
