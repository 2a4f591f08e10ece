package storage

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluice-io/sluice/internal/batch"
	"github.com/sluice-io/sluice/internal/model"
)

// cleanWorkload writes w into a fresh compacted log, rolls, appends one
// batch to the active segment, cleans once and checks the outcome. It
// returns the log and the stats.
func cleanWorkload(t *testing.T, cfg Config, w *workload) (*Log, CleanStats) {
	t.Helper()
	l := newTestLog(t, cfg)
	start := time.Now()
	w.write(t, l)
	wrote := time.Since(start)
	rollNow(t, l)
	appendKV(t, l, batch.CodecNone, w.lastTs+1, kv{[]byte("active"), []byte("untouched")})
	activeBase, before := activeBytes(t, l)
	sizeBefore, leo := l.Size(), l.LogEndOffset()
	st := mustClean(t, l, w.lastTs+2)
	if !st.Cleaned || st.EndOffset != activeBase {
		t.Fatalf("stats %+v: want a pass up to the active segment %d", st, activeBase)
	}
	if base, after := activeBytes(t, l); base != activeBase || !bytes.Equal(before, after) {
		t.Fatalf("active segment changed")
	}
	if l.LogEndOffset() != leo {
		t.Fatalf("LogEndOffset %d, want %d", l.LogEndOffset(), leo)
	}
	recs, _ := readRecords(t, l)
	checkCompacted(t, recs, w.model, activeBase, true)
	t.Logf("%d updates over %d keys: wrote in %v; clean: %d records -> %d (+%d in the active segment), %d -> %d bytes, %d -> %d segments, %v",
		w.updates, w.keys, wrote, st.RecordsRead, st.RecordsKept, len(recs)-int(st.RecordsKept),
		sizeBefore, l.Size(), st.SegmentsRead, st.SegmentsWritten, st.Elapsed)
	return l, st
}

func TestCleanKeepsLatestRecordOfEveryKey(t *testing.T) {
	// Every codec, gzip and zstd less often (they are slow under -race).
	codecs := []int{batch.CodecNone, batch.CodecSnappy, batch.CodecLZ4, batch.CodecGzip, batch.CodecNone,
		batch.CodecSnappy, batch.CodecLZ4, batch.CodecZstd, batch.CodecNone, batch.CodecLZ4}
	w := &workload{keys: 1000, updates: 200_000, perBatch: 50, codecs: codecs, tombEvery: 997}
	l, st := cleanWorkload(t, compactConfig(), w)
	if st.RecordsKept != int64(len(w.model)) {
		t.Errorf("kept %d records, want one per key (%d)", st.RecordsKept, len(w.model))
	}
	_, hs := readRecords(t, l)
	for _, h := range hs {
		if want, ok := w.codecAt[model.Offset(h.BaseOffset())]; ok && h.RecordCount() > 0 && h.Codec() != want {
			t.Errorf("batch %d: codec %d, want the original %d", h.BaseOffset(), h.Codec(), want)
		}
	}
	for _, s := range l.segments() {
		if s.size.Load() > l.cfg.SegmentBytes {
			t.Errorf("segment %d holds %d bytes, over segment.bytes", s.base, s.size.Load())
		}
	}
	if again := mustClean(t, l, w.lastTs+3); again.Cleaned {
		t.Errorf("second pass ran on a clean log: %+v", again)
	}
}

// TestCleanMillionUpdates is the full-size case: 1,000,000 updates over
// 1,000 keys shrink to 1,000 records.
func TestCleanMillionUpdates(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000,000 updates: skipped with -short")
	}
	cfg := compactConfig()
	cfg.SegmentBytes = 1 << 20
	w := &workload{keys: 1000, updates: 1_000_000, perBatch: 100}
	_, st := cleanWorkload(t, cfg, w)
	if st.RecordsRead != 1_000_000 || st.RecordsKept != 1000 {
		t.Errorf("records %d -> %d, want 1000000 -> 1000", st.RecordsRead, st.RecordsKept)
	}
}

func TestCleanReadAndTimestampLookups(t *testing.T) {
	w := &workload{keys: 50, updates: 5000, perBatch: 5}
	l, _ := cleanWorkload(t, compactConfig(), w)
	recs, hs := readRecords(t, l)
	for _, r := range recs {
		c, err := l.Read(r.off, 1, true)
		if err != nil || c.Empty() {
			t.Fatalf("Read(%d): %v, empty %v", r.off, err, c.Empty())
		}
		if c.FirstOffset != r.batchBase {
			t.Errorf("Read(%d) starts at %d, want the batch at %d", r.off, c.FirstOffset, r.batchBase)
		}
	}
	// A removed offset reads from the next kept batch.
	if c, err := l.Read(0, 1, true); err != nil || c.FirstOffset != model.Offset(hs[0].BaseOffset()) {
		t.Errorf("Read(0) = %d, %v; want the first kept batch %d", c.FirstOffset, err, hs[0].BaseOffset())
	}
	for _, ts := range []int64{t0 - 1, t0 + 10, t0 + 500, w.lastTs, w.lastTs + 1} {
		want := model.Offset(-1)
		for _, h := range hs {
			if h.MaxTimestamp() >= ts {
				want = model.Offset(h.BaseOffset())
				break
			}
		}
		got, _, found := l.OffsetForTimestamp(ts)
		if found != (want >= 0) || (found && got != want) {
			t.Errorf("OffsetForTimestamp(%d) = %d, %v; want %d", ts, got, found, want)
		}
	}
}

func TestCleanRemovesTombstonesAfterDeleteRetention(t *testing.T) {
	cfg := compactConfig()
	cfg.DeleteRetentionMs = 1000
	l := newTestLog(t, cfg)
	m := map[string]latest{}
	for i := range 100 {
		off := appendKV(t, l, batch.CodecLZ4, t0, kv{keyOf(i), []byte("v")})
		m[string(keyOf(i))] = latest{off, []byte("v")}
	}
	for i := range 50 {
		off := appendKV(t, l, batch.CodecLZ4, t0, kv{keyOf(i), nil})
		m[string(keyOf(i))] = latest{off, nil}
	}
	rollNow(t, l)
	end := l.LogEndOffset()
	now := t0 + 10
	if st := mustClean(t, l, now); !st.Cleaned || st.RecordsKept != 100 {
		t.Fatalf("first pass %+v: want 50 values and 50 tombstones kept", st)
	}
	recs, hs := readRecords(t, l)
	checkCompacted(t, recs, m, end, true)
	for _, h := range hs {
		if h.RecordCount() > 0 && h.Attributes()&batch.DeleteHorizonBit != 0 && h.FirstTimestamp() != now+1000 {
			t.Errorf("batch %d: delete horizon %d, want %d", h.BaseOffset(), h.FirstTimestamp(), now+1000)
		}
	}
	if st := mustClean(t, l, now+999); st.Cleaned {
		t.Errorf("pass before the horizon: %+v", st)
	}
	if st := mustClean(t, l, now+1000); !st.Cleaned || st.RecordsKept != 50 {
		t.Fatalf("pass at the horizon %+v: want the 50 values only", st)
	}
	recs, _ = readRecords(t, l)
	checkCompacted(t, recs, m, end, false)
	if len(recs) != 50 {
		t.Errorf("%d records left, want 50", len(recs))
	}
}

func TestCleanDecidesWhenWorthIt(t *testing.T) {
	hour := int64(60 * 60 * 1000)
	for _, tc := range []struct {
		name  string
		cfg   func(*Config)
		now   int64
		clean bool
	}{
		{"dirty above ratio", func(c *Config) {}, t0, true},
		{"policy delete", func(c *Config) { c.CleanupPolicy = "delete" }, t0, false},
		{"ratio 1 is never reached", func(c *Config) { c.MinCleanableDirtyRatio = 1 }, t0, false},
		{"max lag forces a clean", func(c *Config) { c.MinCleanableDirtyRatio = 1; c.MaxCompactionLagMs = hour }, t0 + 2*hour, true},
		{"max lag not reached", func(c *Config) { c.MinCleanableDirtyRatio = 1; c.MaxCompactionLagMs = hour }, t0 + hour/2, false},
		{"min lag holds young records", func(c *Config) { c.MinCompactionLagMs = hour }, t0 + hour/2, false},
		{"min lag passed", func(c *Config) { c.MinCompactionLagMs = hour }, t0 + 2*hour, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := compactConfig()
			tc.cfg(&cfg)
			l := newTestLog(t, cfg)
			(&workload{keys: 10, updates: 2000, perBatch: 10}).write(t, l)
			rollNow(t, l)
			if st := mustClean(t, l, tc.now); st.Cleaned != tc.clean {
				t.Errorf("Cleaned = %v, want %v (%+v)", st.Cleaned, tc.clean, st)
			}
		})
	}
}

func TestCleanMinCompactionLagKeepsRecentSegments(t *testing.T) {
	cfg := compactConfig()
	cfg.MinCompactionLagMs = 1000
	cfg.MinCleanableDirtyRatio = 0
	l := newTestLog(t, cfg)
	old := &workload{keys: 10, updates: 3000, perBatch: 10}
	old.write(t, l)
	rollNow(t, l)
	young := l.LogEndOffset()
	for i := range 200 {
		appendKV(t, l, batch.CodecNone, t0+5000, kv{keyOf(i % 10), []byte("young")})
	}
	rollNow(t, l)
	st := mustClean(t, l, t0+5500)
	if !st.Cleaned || st.EndOffset != young {
		t.Fatalf("stats %+v: want the pass to stop at the young segment %d", st, young)
	}
	recs, _ := readRecords(t, l)
	n := 0
	for _, r := range recs {
		if r.off >= young {
			n++
		}
	}
	if n != 200 {
		t.Errorf("%d young records, want all 200 uncompacted", n)
	}
}

func TestCleanCompactDeleteAppliesRetention(t *testing.T) {
	cfg := compactConfig()
	cfg.CleanupPolicy = "compact,delete"
	cfg.RetentionMs = dayMs
	l := newTestLog(t, cfg)
	(&workload{keys: 100, updates: 5000, perBatch: 10}).write(t, l)
	rollNow(t, l)
	fresh := l.LogEndOffset()
	// The old segments were written at t0 too: a cleaned segment that
	// ends up empty keeps their modification time for time retention.
	for _, s := range l.segments() {
		mt := time.UnixMilli(t0 + 500)
		if err := os.Chtimes(segmentName(s.dir, s.base, logSuffix), mt, mt); err != nil {
			t.Fatal(err)
		}
	}
	appendKV(t, l, batch.CodecNone, t0+2*dayMs, kv{keyOf(1), []byte("new")})
	rollNow(t, l)
	appendKV(t, l, batch.CodecNone, t0+2*dayMs, kv{keyOf(2), []byte("active")})
	if st, err := l.CleanUpTo(t0+2*dayMs, fresh); err != nil || !st.Cleaned || st.EndOffset != fresh {
		t.Fatalf("CleanUpTo(%d) = %+v, %v", fresh, st, err)
	}
	if _, err := l.ApplyRetention(t0 + 2*dayMs); err != nil {
		t.Fatal(err)
	}
	if l.LogStartOffset() != fresh {
		t.Errorf("LogStartOffset %d after retention, want %d (the old records are past retention.ms)", l.LogStartOffset(), fresh)
	}
	if recs, _ := readRecords(t, l); len(recs) != 2 {
		t.Errorf("%d records left, want 2", len(recs))
	}
}

func TestCleanKeepsProducerLastBatchAndRoundEnd(t *testing.T) {
	cfg := compactConfig()
	cfg.MinCleanableDirtyRatio = 0
	l := newTestLog(t, cfg)
	idem := func(pid int64, seq int32) batch.BatchInfo {
		info := batch.NewBatchInfo(batch.CodecSnappy)
		info.ProducerID, info.ProducerEpoch, info.BaseSequence = pid, 3, seq
		return info
	}
	add := func(info batch.BatchInfo, recs ...kv) {
		if _, err := l.Append(buildKV(t, info, t0, recs), 0); err != nil {
			t.Fatal(err)
		}
	}
	add(idem(7, 0), kv{[]byte("a"), []byte("1")}, kv{[]byte("b"), []byte("1")})          // 0-1: dropped
	add(idem(7, 2), kv{[]byte("a"), []byte("2")}, kv{[]byte("b"), []byte("2")})          // 2-3: pid 7's last, kept empty
	add(batch.NewBatchInfo(batch.CodecNone), kv{nil, []byte("no key")})                  // 4: invalid, dropped
	add(batch.NewBatchInfo(batch.CodecNone), kv{[]byte("a"), []byte("3")})               // 5
	add(batch.NewBatchInfo(batch.CodecNone), kv{[]byte("b"), []byte("3")})               // 6
	add(batch.NewBatchInfo(batch.CodecNone), kv{[]byte("b"), []byte("4")}, kv{nil, nil}) // 7-8: ends the pass
	rollNow(t, l)
	st := mustClean(t, l, t0)
	if st.InvalidRecords != 2 {
		t.Errorf("InvalidRecords = %d, want 2", st.InvalidRecords)
	}
	_, hs := readRecords(t, l)
	type want struct {
		base, last int64
		count, seq int32
		pid        int64
	}
	var got []want
	for _, h := range hs {
		got = append(got, want{h.BaseOffset(), h.LastOffset(), h.RecordCount(), h.BaseSequence(), h.ProducerID()})
	}
	exp := []want{{2, 3, 0, 2, 7}, {5, 5, 1, -1, -1}, {7, 8, 1, -1, -1}}
	if len(got) != len(exp) {
		t.Fatalf("batches %+v, want %+v", got, exp)
	}
	for i := range exp {
		if got[i] != exp[i] {
			t.Errorf("batch %d: %+v, want %+v", i, got[i], exp[i])
		}
	}
}

func TestCleanWithSmallOffsetMapCleansInSteps(t *testing.T) {
	cfg := compactConfig()
	cfg.MinCleanableDirtyRatio = 0
	cfg.SegmentBytes = 4 << 10
	l := newTestLog(t, cfg)
	w := &workload{keys: 30, updates: 600, perBatch: 1}
	w.write(t, l)
	rollNow(t, l)
	end := l.LogEndOffset()
	passes := 0
	for {
		st, err := l.clean(t0, end, 0) // a 16-slot map: 12 keys a pass
		if err != nil {
			t.Fatal(err)
		}
		if !st.Cleaned {
			break
		}
		if passes++; passes > 100 {
			t.Fatal("no end to the passes")
		}
		if st.MapKeys > 12 || (st.EndOffset < end && st.MapKeys != 12) {
			t.Fatalf("pass %d: %+v", passes, st)
		}
	}
	if passes < 2 {
		t.Errorf("%d passes, want several with a small map", passes)
	}
	recs, _ := readRecords(t, l)
	checkCompacted(t, recs, w.model, end, true)
	if len(recs) != len(w.model) {
		t.Errorf("%d records, want %d", len(recs), len(w.model))
	}
}

func TestCleanerCheckpointSurvivesReopenAndTruncation(t *testing.T) {
	cfg := compactConfig()
	l := newTestLog(t, cfg)
	w := &workload{keys: 20, updates: 2000, perBatch: 10}
	w.write(t, l)
	rollNow(t, l)
	end := l.LogEndOffset()
	mustClean(t, l, t0)
	l = reopen(t, l, cfg)
	if r := l.CleanableRatio(t0); r != 0 {
		t.Errorf("CleanableRatio after reopen = %v, want 0", r)
	}
	b, err := os.ReadFile(filepath.Join(l.Dir(), cleanerCheckpointName))
	if err != nil || !strings.Contains(string(b), "clean_offset: "+itoa(end)) {
		t.Fatalf("cleaner checkpoint %q, %v; want clean_offset %d", b, err, end)
	}
	recs, _ := readRecords(t, l)
	checkCompacted(t, recs, w.model, end, true)
	if err := l.TruncateTo(end - 5); err != nil {
		t.Fatal(err)
	}
	l.mu.Lock()
	off := l.cleaner.offset
	l.mu.Unlock()
	if off > l.LogEndOffset() {
		t.Errorf("cleaner offset %d above the log end %d after truncation", off, l.LogEndOffset())
	}
}

func TestCleanableRatio(t *testing.T) {
	l := newTestLog(t, compactConfig())
	if r := l.CleanableRatio(t0); r != 0 {
		t.Errorf("empty log ratio %v", r)
	}
	(&workload{keys: 10, updates: 2000, perBatch: 10}).write(t, l)
	rollNow(t, l)
	if r := l.CleanableRatio(t0); r != 1 {
		t.Errorf("ratio of a never-cleaned log = %v, want 1", r)
	}
	cfg := compactConfig()
	cfg.CleanupPolicy = "delete"
	l.SetConfig(cfg)
	if r := l.CleanableRatio(t0); r != 0 {
		t.Errorf("ratio with cleanup.policy=delete = %v, want 0", r)
	}
}

func itoa(o model.Offset) string { return strconv.FormatInt(int64(o), 10) }
