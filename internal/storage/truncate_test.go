package storage

import (
	"testing"

	"github.com/sluice-io/sluice/internal/model"
	"github.com/sluice-io/sluice/internal/storage/storagetest"
)

func TestTruncateTo(t *testing.T) {
	tests := []struct {
		name      string
		to        model.Offset
		wantEnd   model.Offset
		wantBases []model.Offset
	}{
		{"past the end", 100, 35, []model.Offset{0, 10, 20, 30}},
		{"inside active", 33, 33, []model.Offset{0, 10, 20, 30}},
		{"active base", 30, 30, []model.Offset{0, 10, 20, 30}},
		{"older segment", 14, 14, []model.Offset{0, 10}},
		{"start", 0, 0, []model.Offset{0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			l := segLog(t, cfg, 35, 0)
			l.AssignEpoch(3, 12)
			l.AssignEpoch(4, 31)
			if err := l.TruncateTo(tt.to); err != nil {
				t.Fatal(err)
			}
			if l.LogEndOffset() != tt.wantEnd || !equalOffsets(bases(l), tt.wantBases) {
				t.Fatalf("end %d segments %v; want %d %v", l.LogEndOffset(), bases(l), tt.wantEnd, tt.wantBases)
			}
			if l.RecoveryPoint() > tt.wantEnd {
				t.Errorf("recovery point %d above the end", l.RecoveryPoint())
			}
			for _, e := range l.LeaderEpochs() {
				if e.StartOffset >= tt.wantEnd && tt.wantEnd < 35 {
					t.Errorf("epoch %v survives truncation to %d", e, tt.wantEnd)
				}
			}
			if hs := readAll(t, l, 0); len(hs) != int(tt.wantEnd) {
				t.Errorf("%d batches readable, want %d", len(hs), tt.wantEnd)
			}
			// Appends continue at the new end, and survive a crash.
			appendBatches(t, l, 12, 1, 50, 0)
			want := tt.wantEnd + 12
			l2 := crashAndOpen(t, l, cfg)
			if l2.LogEndOffset() != want || len(readAll(t, l2, 0)) != int(want) {
				t.Errorf("after crash: end %d, want %d", l2.LogEndOffset(), want)
			}
		})
	}
}

func TestTruncateFullyAndStartAt(t *testing.T) {
	cfg := testConfig()
	l := segLog(t, cfg, 25, 0)
	if err := l.TruncateFullyAndStartAt(1000); err != nil {
		t.Fatal(err)
	}
	if l.LogStartOffset() != 1000 || l.LogEndOffset() != 1000 || l.Size() != 0 || len(l.LeaderEpochs()) != 0 {
		t.Fatalf("start %d end %d size %d epochs %v", l.LogStartOffset(), l.LogEndOffset(), l.Size(), l.LeaderEpochs())
	}
	b := storagetest.Build(storagetest.Spec{Records: 2, BaseOffset: 1000, LeaderEpoch: 7})
	if err := l.AppendAsFollower(b); err != nil {
		t.Fatal(err)
	}
	l2 := reopen(t, l, cfg)
	if l2.LogStartOffset() != 1000 || l2.LogEndOffset() != 1002 {
		t.Errorf("after reopen: start %d end %d", l2.LogStartOffset(), l2.LogEndOffset())
	}
	if e := l2.LeaderEpochs(); len(e) != 1 || e[0] != (EpochEntry{7, 1000}) {
		t.Errorf("epochs %v", e)
	}
}

func TestRollReplacesEmptyFirstSegment(t *testing.T) {
	l := newTestLog(t, testConfig())
	far := int64(1) << 33 // too far for a relative offset from base 0
	if err := l.AppendAsFollower(storagetest.Build(storagetest.Spec{Records: 2, BaseOffset: far})); err != nil {
		t.Fatal(err)
	}
	if b := bases(l); len(b) != 1 || b[0] != model.Offset(far) {
		t.Fatalf("segments %v, want one at %d", b, far)
	}
	if l.LogStartOffset() != model.Offset(far) || l.LogEndOffset() != model.Offset(far+2) {
		t.Errorf("start %d end %d", l.LogStartOffset(), l.LogEndOffset())
	}
	readAll(t, l, l.LogStartOffset())
}

// An epoch that starts at the log end (this replica led in it and wrote
// nothing) goes with a truncation to the log end, which cuts no byte:
// kept, it made a follower name it in every fetch and truncate to the
// same offset forever.
func TestTruncateToEndDropsEpochStartingThere(t *testing.T) {
	cfg := testConfig()
	l := segLog(t, cfg, 35, 0)
	l.AssignEpoch(3, 12)
	l.AssignEpoch(4, 35) // led from the end, appended nothing
	if err := l.TruncateTo(35); err != nil {
		t.Fatal(err)
	}
	if l.LogEndOffset() != 35 {
		t.Fatalf("end %d, want 35", l.LogEndOffset())
	}
	es := l.LeaderEpochs()
	if len(es) == 0 || es[len(es)-1].Epoch != 3 {
		t.Fatalf("epochs %v after truncating to the end, want the last to be 3", es)
	}
	l2 := crashAndOpen(t, l, cfg)
	if es := l2.LeaderEpochs(); len(es) == 0 || es[len(es)-1].Epoch != 3 {
		t.Fatalf("epochs %v after a crash, want the last to be 3", es)
	}
}
