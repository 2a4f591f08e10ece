package storage

import (
	"testing"

	"github.com/sluice-io/sluice/internal/model"
	"github.com/sluice-io/sluice/internal/storage/storagetest"
)

// tsLog appends one 3-record batch per timestamp in tss (offsets 3i..3i+2;
// record timestamps ts, ts+1, ts+2, so the batch MaxTimestamp is ts+2).
func tsLog(t *testing.T, cfg Config, tss []int64) *Log {
	t.Helper()
	l := newTestLog(t, cfg)
	for _, ts := range tss {
		b := storagetest.Build(storagetest.Spec{Records: 3, ValueSize: 100, FirstTimestamp: ts, TimestampStep: 1})
		if _, err := l.Append(b, 0); err != nil {
			t.Fatal(err)
		}
	}
	return l
}

func TestOffsetForTimestamp(t *testing.T) {
	cfg := testConfig()
	cfg.SegmentBytes = 2000 // several segments
	cfg.IndexIntervalBytes = 300
	// Batch max timestamps: 12, 22, 32, 22 (out of order), 52, 62, ...
	tss := []int64{10, 20, 30, 20, 50, 60, 70, 80, 90, 100, 110, 120}
	l := tsLog(t, cfg, tss)
	if len(l.segments()) < 3 {
		t.Fatalf("%d segments, want several", len(l.segments()))
	}
	tests := []struct {
		ts        int64
		wantOff   model.Offset
		wantTs    int64
		wantFound bool
	}{
		{0, 0, 12, true},
		{12, 0, 12, true},
		{13, 3, 22, true},
		{22, 3, 22, true},
		{23, 6, 32, true},
		{33, 12, 52, true}, // skips the out-of-order batch at 9
		{100, 27, 102, true},
		{122, 33, 122, true},
		{123, -1, -1, false},
	}
	for _, tt := range tests {
		off, ts, found := l.OffsetForTimestamp(tt.ts)
		if off != tt.wantOff || ts != tt.wantTs || found != tt.wantFound {
			t.Errorf("OffsetForTimestamp(%d) = %d, %d, %v; want %d, %d, %v", tt.ts, off, ts, found, tt.wantOff, tt.wantTs, tt.wantFound)
		}
	}
	// The answer never goes below the log start offset.
	if err := l.DeleteRecordsBefore(7); err != nil {
		t.Fatal(err)
	}
	if off, ts, _ := l.OffsetForTimestamp(0); off != 7 || ts != 32 {
		t.Errorf("after DeleteRecordsBefore(7): OffsetForTimestamp(0) = %d, %d; want 7, 32", off, ts)
	}
	// Same answers after a reopen (indexes loaded from disk).
	l2 := reopen(t, l, cfg)
	for _, tt := range tests[5:] {
		if off, ts, found := l2.OffsetForTimestamp(tt.ts); off != tt.wantOff || ts != tt.wantTs || found != tt.wantFound {
			t.Errorf("after reopen: OffsetForTimestamp(%d) = %d, %d, %v; want %d, %d, %v", tt.ts, off, ts, found, tt.wantOff, tt.wantTs, tt.wantFound)
		}
	}
}

func TestMaxTimestamp(t *testing.T) {
	cfg := testConfig()
	cfg.SegmentBytes = 2000
	tests := []struct {
		name    string
		tss     []int64
		wantOff model.Offset
		wantTs  int64
	}{
		{"empty", nil, -1, -1},
		{"increasing", []int64{10, 20, 30}, 6, 32},
		{"max in the middle", []int64{10, 500, 30, 40, 50, 60, 70, 80}, 3, 502},
		{"tie picks earliest", []int64{10, 90, 30, 90, 20}, 3, 92},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := tsLog(t, cfg, tt.tss)
			if off, ts := l.MaxTimestamp(); off != tt.wantOff || ts != tt.wantTs {
				t.Errorf("MaxTimestamp = %d, %d; want %d, %d", off, ts, tt.wantOff, tt.wantTs)
			}
			l2 := reopen(t, l, cfg)
			if off, ts := l2.MaxTimestamp(); off != tt.wantOff || ts != tt.wantTs {
				t.Errorf("after reopen: MaxTimestamp = %d, %d; want %d, %d", off, ts, tt.wantOff, tt.wantTs)
			}
		})
	}
}
