package storage

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sluice-io/sluice/internal/model"
)

// markNow writes l's written mark as its timer would.
func markNow(t *testing.T, l *Log) {
	t.Helper()
	if bootID() == "" {
		t.Fatal("no boot id on this machine: written marks are off")
	}
	l.mu.Lock()
	l.writeMarkLocked()
	l.mu.Unlock()
}

// withBootID makes the process see another boot id until the test ends.
func withBootID(t *testing.T, id string) {
	old := bootID
	bootID = func() string { return id }
	t.Cleanup(func() { bootID = old })
}

func markConfig() Config {
	cfg := testConfig()
	cfg.IndexIntervalBytes = 300
	return cfg
}

// checkAll reads the whole log back and looks up every offset and a
// timestamp through the indexes.
func checkAll(t *testing.T, l *Log, want int) {
	t.Helper()
	if hs := readAll(t, l, 0); len(hs) != want {
		t.Fatalf("%d batches, want %d", len(hs), want)
	}
	for off := model.Offset(0); off < model.Offset(want); off++ {
		c, err := l.Read(off, 1, true)
		if err != nil || c.FirstOffset != off {
			t.Fatalf("Read(%d) = %+v, %v", off, c, err)
		}
	}
	if off, _, _ := l.OffsetForTimestamp(int64(want) - 1); off != model.Offset(want)-1 {
		t.Errorf("OffsetForTimestamp(%d) = %d", want-1, off)
	}
}

func TestWrittenMarkSkipsScanOfMarkedBytes(t *testing.T) {
	cfg := markConfig()
	l := newTestLog(t, cfg)
	appendBatches(t, l, 60, 1, 100, 0)
	markNow(t, l)
	marked := l.Size()
	appendBatches(t, l, 5, 1, 100, 60)
	total := l.Size()
	l2 := crashAndOpen(t, l, cfg)
	if got := l2.scanBytes.Load(); got != total-marked {
		t.Errorf("scanned %d bytes, want only the %d after the mark", got, total-marked)
	}
	if l2.LogEndOffset() != 65 {
		t.Fatalf("LogEndOffset = %d, want 65", l2.LogEndOffset())
	}
	checkAll(t, l2, 65)
	// Appends go on at the right place, and a clean reopen keeps them.
	appendBatches(t, l2, 3, 1, 100, 65)
	checkAll(t, reopen(t, l2, cfg), 68)
}

func TestWrittenMarkCutsTornTailAfterIt(t *testing.T) {
	cfg := markConfig()
	l := newTestLog(t, cfg)
	appendBatches(t, l, 40, 1, 100, 0)
	markNow(t, l)
	appendBatches(t, l, 5, 1, 100, 40)
	l.crash()
	path := segmentName(l.Dir(), 0, logSuffix)
	fi, _ := os.Stat(path)
	os.Truncate(path, fi.Size()-30) // the last batch is torn
	l2, err := Open(l.Dir(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	if l2.LogEndOffset() != 44 {
		t.Fatalf("LogEndOffset = %d, want 44", l2.LogEndOffset())
	}
	checkAll(t, l2, 44)
}

func TestWrittenMarkIgnoredWhenItDoesNotHold(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, dir string)
	}{
		{"another boot", func(t *testing.T, dir string) { withBootID(t, "00000000-0000-0000-0000-000000000000") }},
		{"damaged", func(t *testing.T, dir string) { flipByte(t, filepath.Join(dir, writtenMarkName), 20) }},
		{"segment shorter than the mark", func(t *testing.T, dir string) {
			os.Truncate(segmentName(dir, 0, logSuffix), 500)
		}},
		{"offset index missing", func(t *testing.T, dir string) { os.Remove(segmentName(dir, 0, indexSuffix)) }},
		{"time index shorter", func(t *testing.T, dir string) { os.Truncate(segmentName(dir, 0, timeIndexSuffix), 12) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := markConfig()
			l := newTestLog(t, cfg)
			appendBatches(t, l, 30, 1, 100, 0)
			markNow(t, l)
			l.crash()
			tt.damage(t, l.Dir())
			fi, err := os.Stat(segmentName(l.Dir(), 0, logSuffix))
			if err != nil {
				t.Fatal(err)
			}
			l2, err := Open(l.Dir(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer l2.Close()
			if got := l2.scanBytes.Load(); got == 0 || got > fi.Size() {
				t.Errorf("scanned %d bytes, want the whole %d-byte segment scanned", got, fi.Size())
			}
			if l2.Size() == fi.Size() {
				checkAll(t, l2, 30)
			} else {
				readAll(t, l2, 0) // cut to what the scan found intact
			}
		})
	}
}

func TestWrittenMarkOnlyForTheLastSegment(t *testing.T) {
	cfg := markConfig()
	cfg.SegmentBytes = 1000
	l := newTestLog(t, cfg)
	appendBatches(t, l, 5, 1, 100, 0)
	markNow(t, l)
	appendBatches(t, l, 20, 1, 100, 5) // rolls past the marked segment
	l2 := crashAndOpen(t, l, cfg)
	if l2.scanBytes.Load() == 0 {
		t.Error("nothing scanned: the mark of a rolled segment was trusted")
	}
	checkAll(t, l2, 25)
}

func TestTruncationRemovesWrittenMark(t *testing.T) {
	cfg := markConfig()
	l := newTestLog(t, cfg)
	appendBatches(t, l, 30, 1, 100, 0)
	markNow(t, l)
	if err := l.TruncateTo(10); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(l.Dir(), writtenMarkName)); !os.IsNotExist(err) {
		t.Fatalf("mark still there after truncation: %v", err)
	}
	// New bytes where the marked ones were: a crash scans them all.
	appendBatches(t, l, 25, 1, 100, 10)
	size := l.Size()
	l2 := crashAndOpen(t, l, cfg)
	if got := l2.scanBytes.Load(); got != size {
		t.Errorf("scanned %d bytes, want all %d", got, size)
	}
	checkAll(t, l2, 35)
}

func TestOpenRemovesWrittenMark(t *testing.T) {
	cfg := markConfig()
	l := newTestLog(t, cfg)
	appendBatches(t, l, 10, 1, 100, 0)
	markNow(t, l)
	l2 := crashAndOpen(t, l, cfg)
	if _, err := os.Stat(filepath.Join(l2.Dir(), writtenMarkName)); !os.IsNotExist(err) {
		t.Fatalf("mark survived the recovery that used it: %v", err)
	}
}

func TestWrittenMarkTimer(t *testing.T) {
	cfg := markConfig()
	cfg.WrittenMarkMs = 5
	l := newTestLog(t, cfg)
	appendBatches(t, l, 10, 1, 100, 0)
	path := filepath.Join(l.Dir(), writtenMarkName)
	deadline := time.Now().Add(10 * time.Second)
	for {
		// The timer creates the file, then writes it: a read between the
		// two sees it empty (a torn mark, which recovery rejects too).
		b, err := os.ReadFile(path)
		if err == nil && len(b) > 0 {
			m, err := parseWrittenMark(b)
			if err != nil {
				t.Fatal(err)
			}
			if m.next != 10 || m.size != l.Size() || m.bootID != bootID() {
				t.Fatalf("mark %+v, want next 10, size %d", m, l.Size())
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no mark written 10 s after an append")
		}
		time.Sleep(time.Millisecond) // polling a file the timer writes
	}
}

func TestParseWrittenMark(t *testing.T) {
	m := writtenMark{bootID: "b0e5c3a2-1d6f-4a8e-9c1b-2f3e4d5a6b7c", base: 100, size: 4096, next: 140, offEntries: 3, timeEntries: 2}
	b := m.encode()
	if len(b) != writtenMarkSize {
		t.Fatalf("encoded %d bytes, want %d", len(b), writtenMarkSize)
	}
	got, err := parseWrittenMark(b)
	if err != nil || got != m {
		t.Fatalf("parse = %+v, %v; want %+v", got, err, m)
	}
	for _, bad := range []string{"", "v0 x 1 2 3 4 5", "v0 x 1 2 3 4 5 00000000\n", "v1 x 1 2 3 4 5 deadbeef\n"} {
		if _, err := parseWrittenMark([]byte(bad)); err == nil {
			t.Errorf("parse(%q) succeeded", bad)
		}
	}
	neg := writtenMark{bootID: "x", base: 10, next: 5}.encode() // next before base
	if _, err := parseWrittenMark(neg); err == nil {
		t.Error("a mark with next < base parsed")
	}
}

// TestIndexesTrustedByTheMarkAreSyncedWithTheirSegments: after a kill -9,
// the written mark lets recovery trust segments above the recovery point
// without scanning them, index files included, though nothing fsynced
// those files. The sync round that moves the recovery point past such a
// segment must fsync its indexes too: after a later power loss, recovery
// trusts everything below the recovery point (issue 13, defect 12).
func TestIndexesTrustedByTheMarkAreSyncedWithTheirSegments(t *testing.T) {
	cfg := markConfig()
	cfg.SegmentBytes = 2000
	l := newTestLog(t, cfg)
	appendBatches(t, l, 60, 1, 100, 0) // several rolled segments
	markNow(t, l)
	l.crash()
	// A kill -9 before the rolls' background flushes ran leaves the
	// recovery point where it was: at 0.
	if err := writeFileAtomic(l.Dir(), logCheckpointName, checkpoint{}.encode()); err != nil {
		t.Fatal(err)
	}
	l2, err := Open(l.Dir(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l2.Close() })
	if got := l2.scanBytes.Load(); got != 0 {
		t.Fatalf("recovery scanned %d bytes: the mark did not vouch for the rolled segments", got)
	}
	synced := map[string]bool{}
	var mu sync.Mutex
	l2.fsync = func(f *os.File) error {
		mu.Lock()
		synced[filepath.Base(f.Name())] = true
		mu.Unlock()
		return fdatasync(f)
	}
	if err := l2.Flush(); err != nil {
		t.Fatal(err)
	}
	segs := l2.segments()
	if len(segs) < 3 {
		t.Fatalf("%d segments: the test needs rolled ones", len(segs))
	}
	for _, s := range segs[:len(segs)-1] {
		for _, suf := range []string{indexSuffix, timeIndexSuffix} {
			name := filepath.Base(segmentName(l2.Dir(), s.base, suf))
			if !synced[name] {
				t.Errorf("%s is below the recovery point but was never fsynced", name)
			}
		}
	}
}
