package storage

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-io/sluice/internal/batch"
	"github.com/sluice-io/sluice/internal/model"
	"github.com/sluice-io/sluice/internal/storage/storagetest"
)

// newTestJanitor starts a janitor stopped at cleanup (after the logs made
// later, which close first).
func newTestJanitor(t testing.TB, idle time.Duration) *FileJanitor {
	t.Helper()
	j := NewFileJanitor(idle)
	t.Cleanup(j.Close)
	return j
}

// janitorConfig is testConfig with j closing idle files; a Chunk's hold
// (file.delete.delay.ms) is holdMs.
func janitorConfig(j *FileJanitor, holdMs int64) Config {
	cfg := testConfig()
	cfg.Janitor = j
	cfg.FileDeleteDelayMs = holdMs
	return cfg
}

// waitFor polls cond every millisecond until it holds or d passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", d, what)
		}
		time.Sleep(time.Millisecond) // polling: the janitor has no event to wait on
	}
}

// openSegments counts the segments of l with an open file set.
func openSegments(l *Log) int {
	n := 0
	for _, s := range l.segments() {
		if s.isOpen() {
			n++
		}
	}
	return n
}

// allClosed waits until no segment of l has its files open.
func allClosed(t testing.TB, l *Log) {
	t.Helper()
	waitFor(t, 5*time.Second, "segment files still open", func() bool { return openSegments(l) == 0 })
}

// lookups returns, for every offset below end, the offset index entry a
// lookup finds and the time index entry for a timestamp near it.
func lookups(t testing.TB, l *Log, end model.Offset) [][4]int64 {
	t.Helper()
	var out [][4]int64
	for _, s := range l.segments() {
		fs, err := s.pin()
		if err != nil {
			t.Fatal(err)
		}
		for off := s.base; off < end; off++ {
			o, pos := s.offIdx.lookup(off)
			ts, toff := s.timeIdx.lookup(int64(off))
			out = append(out, [4]int64{int64(o), pos, ts, int64(toff)})
		}
		s.unpin(fs)
	}
	return out
}

func TestJanitorClosesIdleSets(t *testing.T) {
	j := newTestJanitor(t, 20*time.Millisecond)
	cfg := janitorConfig(j, 0)
	cfg.SegmentBytes = 4096
	l := newTestLog(t, cfg)
	appendBatches(t, l, 20, 1, 500, 0) // several segments
	readAll(t, l, 0)
	if openSegments(l) == 0 {
		t.Fatal("no segment open right after reads")
	}
	allClosed(t, l)
	if st := j.Stats(); st.Open != 0 || st.FDs != 0 || st.Maps != 0 {
		t.Errorf("janitor stats %+v once every set closed, want nothing open", st)
	}
	// Reads and appends open them again.
	if got := len(readAll(t, l, 0)); got != 20 {
		t.Fatalf("%d batches after the files closed, want 20", got)
	}
	appendBatches(t, l, 5, 1, 500, 20)
	if got := len(readAll(t, l, 0)); got != 25 {
		t.Fatalf("%d batches, want 25", got)
	}
	allClosed(t, l)
}

func TestJanitorNeverClosesPinnedSet(t *testing.T) {
	j := newTestJanitor(t, 10*time.Millisecond)
	l := newTestLog(t, janitorConfig(j, 0))
	appendBatches(t, l, 3, 1, 100, 0)
	s := l.active()
	fs, err := s.pin()
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // twenty idle times
	if s.files.Load() != fs {
		t.Fatal("the janitor replaced a pinned set")
	}
	b := make([]byte, s.size.Load())
	if _, err := fs.log.ReadAt(b, 0); err != nil {
		t.Fatalf("read through a pinned set: %v", err)
	}
	s.unpin(fs)
	allClosed(t, l)
	if fs.pins.Load() >= 0 {
		t.Errorf("closed set has pin count %d, want it claimed", fs.pins.Load())
	}
}

func TestActiveSegmentAppendsAfterMapsReleased(t *testing.T) {
	j := newTestJanitor(t, 10*time.Millisecond)
	cfg := janitorConfig(j, 0)
	cfg.IndexIntervalBytes = 1 // an index entry for nearly every batch
	l := newTestLog(t, cfg)
	for round := range 3 {
		appendBatches(t, l, 30, 2, 100, int64(round*30))
		allClosed(t, l) // the writable maps of the active segment too
	}
	s := l.active()
	if n := s.offIdx.entries(); n < 80 {
		t.Errorf("%d offset index entries after 90 batches, want one per batch but the first", n)
	}
	hs := readAll(t, l, 0)
	if len(hs) != 90 {
		t.Fatalf("%d batches, want 90", len(hs))
	}
	for off := model.Offset(0); off < l.LogEndOffset(); off += 7 {
		c, err := l.Read(off, 1, true)
		if err != nil || c.FirstOffset > off || model.Offset(splitBatches(t, chunkBytes(t, c))[0].LastOffset()) < off {
			t.Fatalf("Read(%d) = first offset %d, %v", off, c.FirstOffset, err)
		}
	}
	// A clean restart trusts the index files the maps wrote.
	end := l.LogEndOffset()
	want := lookups(t, l, end)
	l2 := reopen(t, l, cfg)
	if got := lookups(t, l2, end); !equalLookups(got, want) {
		t.Error("index lookups differ after a restart")
	}
	fi, err := os.Stat(segmentName(l2.Dir(), 0, indexSuffix))
	if err != nil || fi.Size() != s.offIdx.entries()*offsetEntrySize {
		t.Errorf("offset index file %v bytes (%v), want %d entries", fi.Size(), err, s.offIdx.entries())
	}
}

func equalLookups(a, b [][4]int64) bool {
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

func TestIndexesSurviveCloseReopen(t *testing.T) {
	j := newTestJanitor(t, 10*time.Millisecond)
	cfg := janitorConfig(j, 0)
	cfg.IndexIntervalBytes = 200
	cfg.SegmentBytes = 8 << 10
	l := newTestLog(t, cfg)
	appendBatches(t, l, 60, 3, 120, 0) // rolled segments and an active one
	end := l.LogEndOffset()
	want := lookups(t, l, end)
	wantTs := make([]model.Offset, 60)
	for i := range wantTs {
		wantTs[i], _, _ = l.OffsetForTimestamp(int64(i))
	}
	allClosed(t, l)
	if got := lookups(t, l, end); !equalLookups(got, want) {
		t.Error("index lookups differ after the files closed and opened again")
	}
	for i := range wantTs {
		if off, _, _ := l.OffsetForTimestamp(int64(i)); off != wantTs[i] {
			t.Errorf("OffsetForTimestamp(%d) = %d after reopening, want %d", i, off, wantTs[i])
		}
	}
}

func TestChunkReadableForItsHoldAfterIdle(t *testing.T) {
	const hold = 400 * time.Millisecond
	j := newTestJanitor(t, 10*time.Millisecond)
	l := newTestLog(t, janitorConfig(j, hold.Milliseconds()))
	appendBatches(t, l, 5, 1, 100, 0)
	allClosed(t, l)
	c, err := l.Read(0, 1<<20, true)
	if err != nil || c.Empty() {
		t.Fatalf("Read: %v %v", c, err)
	}
	readAt := time.Now()
	want := chunkBytes(t, c)
	time.Sleep(hold / 2) // forty idle times, half the hold
	if got := chunkBytes(t, c); !bytes.Equal(got, want) {
		t.Fatal("chunk bytes changed")
	}
	allClosed(t, l)
	if held := time.Since(readAt); held < hold {
		t.Errorf("the janitor closed a Chunk's file %v after the read, before its %v hold", held, hold)
	}
	if _, err := c.ReadAt(make([]byte, 1), 0); err == nil {
		t.Error("a Chunk past its hold still reads: the set was not closed")
	}
}

func TestCreateAndOpenLeaveFilesClosed(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig()
	fds, maps := countFDs(t, dir), countMaps(t, dir)
	logs := make([]*Log, 50)
	for i := range logs {
		l, err := Create(dirOf(dir, i), model.NewTopicID(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		logs[i] = l
	}
	if d := countFDs(t, dir) - fds; d > 0 {
		t.Errorf("50 new logs hold %d descriptors, want 0", d)
	}
	if d := countMaps(t, dir) - maps; d > 0 {
		t.Errorf("50 new logs hold %d memory maps, want 0", d)
	}
	for _, l := range logs {
		appendBatches(t, l, 3, 1, 100, 0)
		l.crash() // a restart after kill -9 recovers every segment
	}
	fds, maps = countFDs(t, dir), countMaps(t, dir)
	for i := range logs {
		l, err := Open(dirOf(dir, i), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if l.LogEndOffset() != 3 {
			t.Fatalf("log %d: end %d after Open, want 3", i, l.LogEndOffset())
		}
		logs[i] = l
	}
	if d := countFDs(t, dir) - fds; d > 0 {
		t.Errorf("50 recovered logs hold %d descriptors, want 0", d)
	}
	if d := countMaps(t, dir) - maps; d > 0 {
		t.Errorf("50 recovered logs hold %d memory maps, want 0", d)
	}
	for _, l := range logs {
		if got := len(readAll(t, l, 0)); got != 3 {
			t.Errorf("%d batches, want 3", got)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func dirOf(parent string, i int) string { return filepath.Join(parent, fmt.Sprintf("t-%d", i)) }

// countFDs is the process's open descriptors on files under dir.
func countFDs(t testing.TB, dir string) int {
	t.Helper()
	es, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	n := 0
	for _, e := range es {
		if p, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name())); err == nil && strings.HasPrefix(p, dir) {
			n++
		}
	}
	return n
}

// countMaps is the process's memory maps of files under dir.
func countMaps(t testing.TB, dir string) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Skip("no /proc/self/maps")
	}
	return bytes.Count(b, []byte(" "+dir))
}

// TestJanitorUnderConcurrentUse reads, appends and closes at once: four
// readers at random offsets, an appender, the janitor closing every set
// idle for a millisecond and relief closing every unpinned one. Every
// read returns whole, valid batches at the right offsets, and a Chunk
// reads within its hold (run with -race).
func TestJanitorUnderConcurrentUse(t *testing.T) {
	const hold = 50 * time.Millisecond
	j := newTestJanitor(t, time.Millisecond)
	cfg := janitorConfig(j, hold.Milliseconds())
	cfg.SegmentBytes = 16 << 10
	cfg.IndexIntervalBytes = 512
	l := newTestLog(t, cfg)
	appendBatches(t, l, 50, 2, 200, 0)
	stop := make(chan struct{})
	errs := make(chan error, 8)
	var wg sync.WaitGroup
	for r := range 4 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(r), 7))
			for {
				select {
				case <-stop:
					return
				default:
				}
				end := l.LogEndOffset()
				off := model.Offset(rng.Int64N(int64(end)))
				c, err := l.Read(off, 4096, true)
				readAt := time.Now()
				if err != nil {
					errs <- fmt.Errorf("Read(%d): %w", off, err)
					return
				}
				b := make([]byte, c.Size)
				if _, err := c.ReadAt(b, 0); err != nil {
					if time.Since(readAt) <= hold {
						errs <- fmt.Errorf("chunk of Read(%d) unreadable within its hold: %w", off, err)
						return
					}
					continue
				}
				good, err := batch.ScanStored(b, func(h batch.Header) error { return nil })
				if err != nil || good != len(b) || c.FirstOffset > off || model.Offset(batch.Header(b).LastOffset()) < off {
					errs <- fmt.Errorf("Read(%d): %d good bytes of %d, first offset %d (%v)", off, good, len(b), c.FirstOffset, err)
					return
				}
			}
		})
	}
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := l.Append(storagetest.Build(storagetest.Spec{Records: 2, ValueSize: 200, FirstTimestamp: int64(i)}), 0); err != nil {
				errs <- fmt.Errorf("Append: %w", err)
				return
			}
			time.Sleep(100 * time.Microsecond)
		}
	})
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			relieveAll()
			time.Sleep(200 * time.Microsecond)
		}
	})
	// At least a second of load, and on until a set has closed under it:
	// a set read within its hold cannot close, and with four readers
	// spread over a few segments that can take a while on a busy machine
	// (30 s at most).
	closed := func() bool { st := j.Stats(); return st.ClosedIdle+st.ClosedPressure > 0 }
	start := time.Now()
	for time.Since(start) < time.Second || !closed() && time.Since(start) < 30*time.Second {
		time.Sleep(10 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if st := j.Stats(); st.ClosedIdle+st.ClosedPressure == 0 {
		t.Errorf("no set closed meanwhile: %+v", st)
	}
	if got := len(readAll(t, l, 0)); got < 50 {
		t.Errorf("%d batches, want at least 50", got)
	}
	l.Close()
	if st := j.Stats(); st.Open != 0 || st.FDs != 0 || st.Maps != 0 {
		t.Errorf("janitor stats %+v after Close, want nothing open", st)
	}
}
