package storage

import (
	"errors"
	"testing"

	"github.com/sluice-io/sluice/internal/model"
	"github.com/sluice-io/sluice/internal/storage/storagetest"
)

// segLog appends n 100-byte batches with timestamps ts0+i into segments of
// 10 batches each.
func segLog(t *testing.T, cfg Config, n int, ts0 int64) *Log {
	t.Helper()
	cfg.SegmentBytes = 1000
	l := newTestLog(t, cfg)
	for i := range n {
		if _, err := l.Append(storagetest.BatchOfSize(100, ts0+int64(i)), 0); err != nil {
			t.Fatal(err)
		}
	}
	return l
}

func bases(l *Log) []model.Offset {
	var out []model.Offset
	for _, s := range l.segments() {
		out = append(out, s.base)
	}
	return out
}

func TestRetention(t *testing.T) {
	const ts0 = 1_000_000
	tests := []struct {
		name      string
		n         int
		retMs     int64
		retBytes  int64
		now       int64
		hw        model.Offset // -1: log end
		policy    string
		wantDel   int
		wantBases []model.Offset
	}{
		{"nothing expired", 35, 1000, -1, ts0 + 100, -1, "", 0, []model.Offset{0, 10, 20, 30}},
		// Segment 0 holds timestamps ts0..ts0+9, segment 10 up to ts0+19.
		{"time", 35, 100, -1, ts0 + 119, -1, "", 1, []model.Offset{10, 20, 30}},
		{"time two", 35, 100, -1, ts0 + 120, -1, "", 2, []model.Offset{20, 30}},
		{"time all rolls active", 35, 100, -1, ts0 + 10_000, -1, "", 4, []model.Offset{35}},
		{"time stops at high watermark", 35, 100, -1, ts0 + 10_000, 25, "", 2, []model.Offset{20, 30}},
		{"size", 35, -1, 1500, 0, -1, "", 2, []model.Offset{20, 30}},
		{"size keeps a segment that would undershoot", 35, -1, 2000, 0, -1, "", 1, []model.Offset{10, 20, 30}},
		{"size exact", 35, -1, 2500, 0, -1, "", 1, []model.Offset{10, 20, 30}},
		{"compact keeps all", 35, 100, 100, ts0 + 10_000, -1, "compact", 0, []model.Offset{0, 10, 20, 30}},
		{"empty active stays", 30, 100, -1, ts0 + 10_000, -1, "", 3, []model.Offset{30}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.RetentionMs, cfg.RetentionBytes, cfg.CleanupPolicy = tt.retMs, tt.retBytes, tt.policy
			l := segLog(t, cfg, tt.n, ts0)
			hw := tt.hw
			if hw < 0 {
				hw = l.LogEndOffset()
			}
			del, err := l.ApplyRetentionUpTo(tt.now, hw)
			if err != nil {
				t.Fatal(err)
			}
			got := bases(l)
			if del != tt.wantDel || !equalOffsets(got, tt.wantBases) {
				t.Fatalf("deleted %d, segments %v; want %d, %v", del, got, tt.wantDel, tt.wantBases)
			}
			if l.LogStartOffset() != got[0] {
				t.Errorf("LogStartOffset = %d, want %d", l.LogStartOffset(), got[0])
			}
			if want := int64(tt.n-int(got[0])) * 100; l.Size() != want {
				t.Errorf("Size = %d, want %d", l.Size(), want)
			}
			if _, err := l.Read(0, 100, true); got[0] > 0 && !errors.Is(err, ErrOffsetOutOfRange) {
				t.Errorf("Read(0) after retention = %v", err)
			}
			readAll(t, l, l.LogStartOffset())
			// Appends still work after retention emptied the log.
			appendBatches(t, l, 2, 1, 10, ts0)
			readAll(t, l, l.LogStartOffset())
		})
	}
}

func equalOffsets(a, b []model.Offset) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestDeleteRecordsBefore(t *testing.T) {
	cfg := testConfig()
	l := segLog(t, cfg, 35, 0)
	if err := l.DeleteRecordsBefore(36); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Errorf("DeleteRecordsBefore past the end = %v", err)
	}
	if err := l.DeleteRecordsBefore(15); err != nil {
		t.Fatal(err)
	}
	if l.LogStartOffset() != 15 || !equalOffsets(bases(l), []model.Offset{10, 20, 30}) {
		t.Fatalf("start %d segments %v; want 15 [10 20 30]", l.LogStartOffset(), bases(l))
	}
	if err := l.DeleteRecordsBefore(12); err != nil || l.LogStartOffset() != 15 {
		t.Errorf("moving the start back: %v, start %d", err, l.LogStartOffset())
	}
	if c, err := l.Read(15, 100, true); err != nil || c.FirstOffset != 15 {
		t.Errorf("Read(15) = %+v, %v", c, err)
	}
	// The start offset is durable: kill the log (no Close) and reopen.
	l2 := crashAndOpen(t, l, cfg)
	if l2.LogStartOffset() != 15 {
		t.Errorf("LogStartOffset after crash = %d, want 15", l2.LogStartOffset())
	}
	if err := l2.DeleteRecordsBefore(35); err != nil {
		t.Fatal(err)
	}
	if l2.LogStartOffset() != 35 || !equalOffsets(bases(l2), []model.Offset{30}) {
		t.Errorf("start %d segments %v; want 35 [30]", l2.LogStartOffset(), bases(l2))
	}
	if c, err := l2.Read(35, 100, true); err != nil || !c.Empty() {
		t.Errorf("Read at the end = %+v, %v", c, err)
	}
}

func TestMaybeRoll(t *testing.T) {
	cfg := testConfig()
	cfg.SegmentMs = 1000
	l := newTestLog(t, cfg)
	now := int64(5_000_000)
	l.nowMs = func() int64 { return now }
	if err := l.MaybeRoll(now + 10_000); err != nil || len(l.segments()) != 1 {
		t.Fatalf("an empty segment rolled: %v, %d segments", err, len(l.segments()))
	}
	l.Append(storagetest.BatchOfSize(100, now), 0)
	for _, tt := range []struct {
		at   int64
		want int
	}{{now + 500, 1}, {now + 1000, 1}, {now + 1001, 2}, {now + 5000, 2}} {
		if err := l.MaybeRoll(tt.at); err != nil || len(l.segments()) != tt.want {
			t.Errorf("MaybeRoll(+%d): %v, %d segments, want %d", tt.at-now, err, len(l.segments()), tt.want)
		}
	}
	// Appends roll by batch timestamps too.
	l.Append(storagetest.BatchOfSize(100, now+2000), 0)
	l.Append(storagetest.BatchOfSize(100, now+2500), 0)
	l.Append(storagetest.BatchOfSize(100, now+3001), 0)
	if n := len(l.segments()); n != 3 {
		t.Errorf("%d segments after a time-based roll on append, want 3", n)
	}
}
