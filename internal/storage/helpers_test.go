package storage

import (
	"bytes"
	"io"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"

	"github.com/sluice-io/sluice/internal/batch"
	"github.com/sluice-io/sluice/internal/model"
	"github.com/sluice-io/sluice/internal/storage/storagetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testConfig is the default config with immediate file deletion.
func testConfig() Config {
	c := DefaultConfig()
	c.FileDeleteDelayMs = 0
	c.WrittenMarkMs = -1 // recovery tests crash at chosen points; written_mark_test.go turns marks on
	return c
}

// newTestLog creates a log under a temp dir and closes it at cleanup.
func newTestLog(t testing.TB, cfg Config) *Log {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "topic-0")
	l, err := Create(dir, model.NewTopicID(), cfg)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// reopen closes l (if open) and opens its directory again.
func reopen(t testing.TB, l *Log, cfg Config) *Log {
	t.Helper()
	l.Close()
	l2, err := Open(l.Dir(), cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { l2.Close() })
	return l2
}

// appendBatches appends n batches of records records with value size vs and
// timestamp ts+i, returning their base offsets.
func appendBatches(t testing.TB, l *Log, n, records, vs int, ts int64) []model.Offset {
	t.Helper()
	bases := make([]model.Offset, n)
	for i := range n {
		b := storagetest.Build(storagetest.Spec{Records: records, ValueSize: vs, FirstTimestamp: ts + int64(i), Fill: byte(i)})
		base, err := l.Append(b, 0)
		if err != nil {
			t.Fatalf("Append %d: %v", i, err)
		}
		bases[i] = base
	}
	return bases
}

// chunkBytes reads a chunk's bytes.
func chunkBytes(t testing.TB, c Chunk) []byte {
	t.Helper()
	b := make([]byte, c.Size)
	if _, err := c.ReadAt(b, 0); err != nil && err != io.EOF {
		t.Fatalf("ReadAt: %v", err)
	}
	return b
}

// splitBatches validates the batches of b and returns their headers.
func splitBatches(t testing.TB, b []byte) []batch.Header {
	t.Helper()
	var hs []batch.Header
	good, err := batch.ScanStored(b, func(h batch.Header) error { hs = append(hs, h); return nil })
	if err != nil || good != len(b) {
		t.Fatalf("chunk holds %d good bytes of %d (%v)", good, len(b), err)
	}
	return hs
}

// readAll reads every batch from from to the log end and returns their
// headers, checking that offsets increase (gaps are allowed: followers).
func readAll(t testing.TB, l *Log, from model.Offset) []batch.Header {
	t.Helper()
	var all []batch.Header
	next := from
	for next < l.LogEndOffset() {
		c, err := l.Read(next, 64<<10, true)
		if err != nil {
			t.Fatalf("Read(%d): %v", next, err)
		}
		if c.Empty() {
			t.Fatalf("Read(%d) empty before log end %d", next, l.LogEndOffset())
		}
		hs := splitBatches(t, chunkBytes(t, c))
		for i, h := range hs {
			first := len(all) == 0 && i == 0
			if model.Offset(h.LastOffset()) < next || (!first && model.Offset(h.BaseOffset()) < next) {
				t.Fatalf("batch [%d,%d] goes back before offset %d", h.BaseOffset(), h.LastOffset(), next)
			}
			next = model.Offset(h.NextOffset())
		}
		all = append(all, hs...)
	}
	return all
}

// sameBytes reports whether a and b are equal (for t.Errorf messages).
func sameBytes(a, b []byte) bool { return bytes.Equal(a, b) }

// crash abandons l as a kill -9 would: no final sync, no checkpoint, no
// trimming; timers and background flushes are stopped so nothing leaks.
func (l *Log) crash() {
	l.mu.Lock()
	l.closed = true
	l.stopTimersLocked()
	pending := l.pendingDeletes
	l.pendingDeletes = nil
	l.mu.Unlock()
	for s, tm := range pending {
		if tm.Stop() {
			l.bg.Done()
		}
		s.release()
	}
	l.bg.Wait()
	l.mu.Lock()
	l.filesClosed = true
	l.shut.Store(true)
	l.mu.Unlock()
	for _, s := range l.segments() {
		s.release()
	}
}

// crashAndOpen crashes l and opens its directory again.
func crashAndOpen(t testing.TB, l *Log, cfg Config) *Log {
	t.Helper()
	l.crash()
	l2, err := Open(l.Dir(), cfg)
	if err != nil {
		t.Fatalf("Open after crash: %v", err)
	}
	t.Cleanup(func() { l2.Close() })
	return l2
}
