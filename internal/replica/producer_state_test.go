package replica

import (
	"errors"
	"math"
	"testing"

	"github.com/sluice-io/sluice/internal/batch"
	"github.com/sluice-io/sluice/internal/model"
)

// step is one batch offered to the producer state in a scenario.
type step struct {
	pid      model.ProducerID
	epoch    model.ProducerEpoch
	seq      int32 // base sequence
	records  int32
	txn      bool
	wantErr  error
	wantDup  model.Offset // base offset of the original, when isDupOff
	isDupOff bool
}

// runSteps offers each step to a fresh state, appending the accepted batches at
// consecutive offsets as the partition would.
func runSteps(t *testing.T, steps []step) *producerState {
	t.Helper()
	st := newProducerState()
	next := model.Offset(0)
	for i, s := range steps {
		if s.records == 0 {
			s.records = 1
		}
		info := producerBatchInfo{pid: s.pid, epoch: s.epoch, firstSeq: s.seq,
			lastSeq: lastSequence(s.seq, s.records-1), transactional: s.txn}
		dup, isDup, err := st.check(info)
		if !errors.Is(err, s.wantErr) || (s.wantErr != nil && err == nil) {
			t.Fatalf("step %d (%+v): err = %v, want %v", i, s, err, s.wantErr)
		}
		if isDup != s.isDupOff || (isDup && dup.firstOffset != s.wantDup) {
			t.Fatalf("step %d (%+v): duplicate = %v at %d, want %v at %d", i, s, isDup, dup.firstOffset, s.isDupOff, s.wantDup)
		}
		if err != nil || isDup {
			continue
		}
		st.update(info, next, next+model.Offset(s.records-1), int64(i))
		next += model.Offset(s.records)
	}
	return st
}

// b is a batch step; fails and dup set its wanted outcome.
func b(pid model.ProducerID, epoch model.ProducerEpoch, seq, records int32) step {
	return step{pid: pid, epoch: epoch, seq: seq, records: records}
}

func (s step) fails(err error) step      { s.wantErr = err; return s }
func (s step) dup(off model.Offset) step { s.wantDup, s.isDupOff = off, true; return s }

func TestProducerStateRules(t *testing.T) {
	tests := []struct {
		name  string
		steps []step
	}{
		{"in order", []step{b(1, 0, 0, 3), b(1, 0, 3, 2), b(1, 0, 5, 1)}},
		{"unknown producer may start anywhere (KIP-360)", []step{b(1, 0, 42, 1), b(1, 0, 43, 1)}},
		{"duplicate of the last batch", []step{b(1, 0, 0, 3), b(1, 0, 3, 2), b(1, 0, 3, 2).dup(3)}},
		{"duplicate of an older batch in the window", []step{
			b(1, 0, 0, 1), b(1, 0, 1, 1), b(1, 0, 2, 1), b(1, 0, 3, 1), b(1, 0, 4, 1), b(1, 0, 0, 1).dup(0)}},
		{"beyond the 5-batch window", []step{
			b(1, 0, 0, 1), b(1, 0, 1, 1), b(1, 0, 2, 1), b(1, 0, 3, 1), b(1, 0, 4, 1), b(1, 0, 5, 1),
			b(1, 0, 0, 1).fails(ErrOutOfOrderSequence)}},
		{"same first sequence, other range is no duplicate", []step{b(1, 0, 0, 3), b(1, 0, 0, 2).fails(ErrOutOfOrderSequence)}},
		{"gap", []step{b(1, 0, 0, 1), b(1, 0, 2, 1).fails(ErrOutOfOrderSequence)}},
		{"old epoch is fenced", []step{b(1, 3, 0, 1), b(1, 2, 1, 1).fails(ErrInvalidProducerEpoch)}},
		{"old epoch duplicate is still fenced", []step{b(1, 2, 0, 1), b(1, 3, 0, 1), b(1, 2, 0, 1).fails(ErrInvalidProducerEpoch)}},
		{"epoch bump restarts at 0", []step{b(1, 0, 0, 5), b(1, 1, 0, 1), b(1, 1, 1, 1)}},
		{"epoch bump must start at 0", []step{b(1, 0, 0, 5), b(1, 1, 5, 1).fails(ErrOutOfOrderSequence)}},
		{"epoch bump forgets old batches", []step{b(1, 0, 0, 1), b(1, 1, 0, 1), b(1, 1, 0, 1).dup(1)}},
		{"producers are independent", []step{b(1, 0, 0, 1), b(2, 0, 0, 1), b(1, 0, 1, 1), b(2, 0, 0, 1).dup(1)}},
		{"sequence wraps at Int32.MaxValue", []step{
			b(1, 0, math.MaxInt32-1, 2), b(1, 0, 0, 1), b(1, 0, 1, 1)}},
		{"a batch may straddle the wrap", []step{
			b(1, 0, math.MaxInt32-1, 4), b(1, 0, 2, 1), b(1, 0, math.MaxInt32-1, 4).dup(0)}},
		{"wrap is not a gap only from MaxValue", []step{b(1, 0, 10, 1), b(1, 0, 0, 1).fails(ErrOutOfOrderSequence)}},
		{"negative sequence is an invalid record", []step{b(1, 0, -1, 1).fails(batch.ErrInvalid)}},
		{"non-transactional write inside a transaction", []step{
			{pid: 1, seq: 0, txn: true}, b(1, 0, 1, 1).fails(ErrInvalidTxnState), {pid: 1, seq: 1, txn: true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { runSteps(t, tt.steps) })
	}
}

func TestLastSequence(t *testing.T) {
	tests := []struct{ base, delta, want int32 }{
		{0, 0, 0}, {5, 4, 9}, {math.MaxInt32, 0, math.MaxInt32},
		{math.MaxInt32, 1, 0}, {math.MaxInt32 - 1, 3, 1},
	}
	for _, tt := range tests {
		if got := lastSequence(tt.base, tt.delta); got != tt.want {
			t.Errorf("lastSequence(%d, %d) = %d, want %d", tt.base, tt.delta, got, tt.want)
		}
	}
}

func TestProducerStateExpire(t *testing.T) {
	st := newProducerState()
	st.update(producerBatchInfo{pid: 1}, 0, 0, 1000)
	st.update(producerBatchInfo{pid: 2}, 1, 1, 5000)
	st.update(producerBatchInfo{pid: 3, transactional: true}, 2, 2, 0) // open transaction: kept
	if n := st.expire(6000, 4000); n != 1 {
		t.Fatalf("expired %d, want 1", n)
	}
	if st.producers[1] != nil || st.producers[2] == nil || st.producers[3] == nil {
		t.Fatalf("wrong producers left: %v", st.producers)
	}
	st.endTxn(3, 0, 0)
	if n := st.expire(9000, 4000); n != 2 {
		t.Fatalf("expired %d, want 2", n)
	}
}

// TestProducerStateSnapshotRoundTrip: restore(snapshot()) keeps every rule.
func TestProducerStateSnapshotRoundTrip(t *testing.T) {
	st := runSteps(t, []step{b(1, 0, 0, 1), b(1, 0, 1, 1), b(1, 0, 2, 1), b(1, 0, 3, 1), b(1, 0, 4, 1), b(1, 0, 5, 1), b(7, 2, 0, 3)})
	again := newProducerState()
	again.restore(st.snapshot(), 0, DefaultProducerIDExpirationMs)
	for _, tc := range []struct {
		info    producerBatchInfo
		dup     bool
		wantOff model.Offset
		wantErr error
	}{
		{producerBatchInfo{pid: 1, firstSeq: 1, lastSeq: 1}, true, 1, nil},
		{producerBatchInfo{pid: 1, firstSeq: 0, lastSeq: 0}, false, 0, ErrOutOfOrderSequence},
		{producerBatchInfo{pid: 1, firstSeq: 6, lastSeq: 6}, false, 0, nil},
		{producerBatchInfo{pid: 7, epoch: 2, firstSeq: 0, lastSeq: 2}, true, 6, nil},
		{producerBatchInfo{pid: 7, epoch: 1, firstSeq: 3, lastSeq: 3}, false, 0, ErrInvalidProducerEpoch},
	} {
		d, isDup, err := again.check(tc.info)
		if isDup != tc.dup || (isDup && d.firstOffset != tc.wantOff) || !errors.Is(err, tc.wantErr) {
			t.Errorf("%+v: dup %v at %d, err %v; want dup %v at %d, err %v", tc.info, isDup, d.firstOffset, err, tc.dup, tc.wantOff, tc.wantErr)
		}
	}
	expired := newProducerState()
	expired.restore(st.snapshot(), 1_000_000, 100)
	if len(expired.producers) != 0 {
		t.Fatalf("restore kept %d expired producers", len(expired.producers))
	}
}
