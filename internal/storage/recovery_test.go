package storage

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sluice-io/sluice/internal/batch"
	"github.com/sluice-io/sluice/internal/model"
	"github.com/sluice-io/sluice/internal/storage/storagetest"
)

// appendFile appends raw bytes to a file.
func appendFile(t testing.TB, path string, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
}

// flipByte flips one byte of a file at pos.
func flipByte(t *testing.T, path string, pos int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	f.ReadAt(b, pos)
	b[0] ^= 0x5a
	f.WriteAt(b, pos)
}

func TestRecoveryTruncatesTornTail(t *testing.T) {
	// 35 batches of 100 bytes in segments of 10: 0, 10, 20, 30 (5 batches).
	active := func(dir string) string { return segmentName(dir, 30, logSuffix) }
	tests := []struct {
		name    string
		damage  func(t *testing.T, dir string)
		wantEnd model.Offset
	}{
		{"garbage", func(t *testing.T, dir string) {
			appendFile(t, active(dir), []byte("not a batch at all, just noise...................................."))
		}, 35},
		{"partial batch", func(t *testing.T, dir string) { appendFile(t, active(dir), storagetest.BatchOfSize(100, 0)[:80]) }, 35},
		{"partial header", func(t *testing.T, dir string) { appendFile(t, active(dir), storagetest.BatchOfSize(100, 0)[:20]) }, 35},
		{"zero tail", func(t *testing.T, dir string) { appendFile(t, active(dir), make([]byte, 4096)) }, 35},
		{"crc mid tail", func(t *testing.T, dir string) { flipByte(t, active(dir), 250) }, 32},
		{"length mid tail", func(t *testing.T, dir string) { flipByte(t, active(dir), 300+9) }, 33},
		{"offsets go back", func(t *testing.T, dir string) {
			appendFile(t, active(dir), storagetest.Build(storagetest.Spec{BaseOffset: 31}))
		}, 35},
		{"torn unflushed older segment", func(t *testing.T, dir string) { flipByte(t, segmentName(dir, 20, logSuffix), 750) }, 27},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			l := segLog(t, cfg, 35, 0)
			l.Flush()
			l.bg.Wait()       // no background roll flush may raise it again
			l.flush.lower(20) // the recovery point sits in segment 20: 20 and 30 get scanned
			l.writeCheckpoint(checkpoint{})
			l.crash()
			tt.damage(t, l.Dir())
			l2, err := Open(l.Dir(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer l2.Close()
			if l2.LogEndOffset() != tt.wantEnd {
				t.Fatalf("LogEndOffset = %d, want %d", l2.LogEndOffset(), tt.wantEnd)
			}
			if hs := readAll(t, l2, 0); len(hs) != int(tt.wantEnd) {
				t.Fatalf("%d batches readable, want %d", len(hs), tt.wantEnd)
			}
			if l2.scanBytes.Load() == 0 || l2.scanBytes.Load() > 1500 {
				t.Errorf("scanned %d bytes, want only segments 20 and 30", l2.scanBytes.Load())
			}
			appendBatches(t, l2, 3, 1, 20, 0)
			l3 := reopen(t, l2, cfg)
			if got := len(readAll(t, l3, 0)); got != int(tt.wantEnd)+3 {
				t.Errorf("after append and reopen: %d batches, want %d", got, tt.wantEnd+3)
			}
		})
	}
}

func TestRecoveryKeepsFlushedData(t *testing.T) {
	cfg := testConfig()
	cfg.SegmentBytes = 1 << 20
	l := newTestLog(t, cfg)
	appendBatches(t, l, 50, 2, 100, 0)
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	flushed := l.LogEndOffset()
	appendBatches(t, l, 10, 2, 100, 0)
	l.crash()
	// The unflushed tail is torn somewhere in its middle.
	path := segmentName(l.Dir(), 0, logSuffix)
	fi, _ := os.Stat(path)
	os.Truncate(path, fi.Size()-500)
	l2, err := Open(l.Dir(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	if end := l2.LogEndOffset(); end < flushed || end >= flushed+20 {
		t.Errorf("LogEndOffset = %d, want between %d and %d", end, flushed, flushed+20)
	}
	readAll(t, l2, 0)
}

func TestRecoveryScansOnlyUnflushedSegments(t *testing.T) {
	cfg := testConfig()
	l := segLog(t, cfg, 95, 0) // segments 0..90, rolls flush in the background
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	appendBatches(t, l, 4, 1, 50, 0)
	l2 := crashAndOpen(t, l, cfg)
	if got := l2.scanBytes.Load(); got == 0 || got > 1000 {
		t.Errorf("scanned %d bytes, want the active segment only", got)
	}
	if l2.LogEndOffset() != 99 {
		t.Errorf("LogEndOffset = %d, want 99", l2.LogEndOffset())
	}
	readAll(t, l2, 0)
}

func TestRecoveryCleanMarkerNeedsSameSize(t *testing.T) {
	cfg := testConfig()
	l := segLog(t, cfg, 15, 0)
	l2 := reopen(t, l, cfg)
	if l2.scanBytes.Load() != 0 {
		t.Fatalf("clean reopen scanned %d bytes", l2.scanBytes.Load())
	}
	appendBatches(t, l2, 2, 1, 50, 0)
	l3 := crashAndOpen(t, l2, cfg)
	if l3.scanBytes.Load() == 0 {
		t.Error("a crash after a clean reopen was trusted as clean")
	}
	if l3.LogEndOffset() != 17 {
		t.Errorf("LogEndOffset = %d, want 17", l3.LogEndOffset())
	}
}

func TestRecoveryRebuildsIndexes(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, dir string)
	}{
		{"offset index deleted", func(t *testing.T, dir string) { os.Remove(segmentName(dir, 10, indexSuffix)) }},
		{"time index deleted", func(t *testing.T, dir string) { os.Remove(segmentName(dir, 10, timeIndexSuffix)) }},
		{"offset index longer than log", func(t *testing.T, dir string) {
			appendFile(t, segmentName(dir, 10, indexSuffix), []byte{0, 0, 0, 9, 0, 0, 0x30, 0})
		}},
		{"offset index garbage", func(t *testing.T, dir string) {
			os.WriteFile(segmentName(dir, 10, indexSuffix), []byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1}, 0o644)
		}},
		{"offset index torn entry", func(t *testing.T, dir string) { appendFile(t, segmentName(dir, 10, indexSuffix), []byte{1, 2, 3}) }},
		{"time index decreasing", func(t *testing.T, dir string) {
			appendFile(t, segmentName(dir, 10, timeIndexSuffix), make([]byte, timeEntrySize))
		}},
		{"active index deleted", func(t *testing.T, dir string) { os.Remove(segmentName(dir, 30, indexSuffix)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.IndexIntervalBytes = 150
			l := segLog(t, cfg, 35, 0)
			l.Close()
			tt.damage(t, l.Dir())
			l2, err := Open(l.Dir(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer l2.Close()
			if l2.scanBytes.Load() == 0 {
				t.Error("no segment was scanned")
			}
			hs := readAll(t, l2, 0)
			if len(hs) != 35 {
				t.Fatalf("%d batches, want 35", len(hs))
			}
			for off := model.Offset(0); off < 35; off++ {
				c, err := l2.Read(off, 1, true)
				if err != nil || c.FirstOffset != off {
					t.Fatalf("Read(%d) = %+v, %v", off, c, err)
				}
			}
			if off, _, _ := l2.OffsetForTimestamp(14); off != 14 {
				t.Errorf("OffsetForTimestamp(14) = %d", off)
			}
		})
	}
}

func TestRecoveryRemovesLeftovers(t *testing.T) {
	cfg := testConfig()
	l := segLog(t, cfg, 15, 0)
	l.Close()
	dir := l.Dir()
	leftovers := []string{
		"00000000000000000099.log.deleted", "00000000000000000099.index.deleted",
		"00000000000000000010.log.cleaned", "00000000000000000010.log.swap",
		"log-checkpoint.tmp", "00000000000000000500.index", "00000000000000000500.timeindex",
	}
	for _, name := range leftovers {
		os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o644)
	}
	l2, err := Open(dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	for _, name := range leftovers {
		if _, err := os.Stat(filepath.Join(dir, name)); !os.IsNotExist(err) {
			t.Errorf("%s still there", name)
		}
	}
	if len(readAll(t, l2, 0)) != 15 {
		t.Error("data lost")
	}
}

func TestRecoveryOddDirectories(t *testing.T) {
	t.Run("empty dir", func(t *testing.T) {
		dir := t.TempDir()
		l, err := Open(dir, testConfig())
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		if !l.TopicID().IsZero() || l.LogEndOffset() != 0 {
			t.Errorf("topic %v end %d", l.TopicID(), l.LogEndOffset())
		}
		if _, err := l.Append(storagetest.Batch(2, 10, 0), 0); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("zero-length segments", func(t *testing.T) {
		cfg := testConfig()
		l := segLog(t, cfg, 15, 0)
		l.crash()
		os.WriteFile(segmentName(l.Dir(), 15, logSuffix), nil, 0o644)
		l2, err := Open(l.Dir(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer l2.Close()
		if l2.LogEndOffset() != 15 {
			t.Errorf("LogEndOffset = %d, want 15", l2.LogEndOffset())
		}
		appendBatches(t, l2, 2, 1, 10, 0)
		if len(readAll(t, l2, 0)) != 17 {
			t.Error("batches lost")
		}
	})
	t.Run("corrupt checkpoint", func(t *testing.T) {
		cfg := testConfig()
		l := segLog(t, cfg, 15, 0)
		l.Close()
		os.WriteFile(filepath.Join(l.Dir(), logCheckpointName), []byte("version: 7\n"), 0o644)
		l2, err := Open(l.Dir(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer l2.Close()
		if l2.LogEndOffset() != 15 || l2.scanBytes.Load() != 1500 {
			t.Errorf("end %d scanned %d; want 15 and a full scan", l2.LogEndOffset(), l2.scanBytes.Load())
		}
	})
	t.Run("start offset past a lost tail", func(t *testing.T) {
		cfg := testConfig()
		l := segLog(t, cfg, 15, 0)
		l.DeleteRecordsBefore(14)
		l.crash()
		os.Truncate(segmentName(l.Dir(), 10, logSuffix), 200) // keep 10..11
		l2, err := Open(l.Dir(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer l2.Close()
		if l2.LogStartOffset() != 14 || l2.LogEndOffset() != 14 {
			t.Errorf("start %d end %d, want 14 14", l2.LogStartOffset(), l2.LogEndOffset())
		}
	})
}

func TestRecoveredBatchesAreIntact(t *testing.T) {
	cfg := testConfig()
	l := segLog(t, cfg, 12, 0)
	l.crash()
	l2, err := Open(l.Dir(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	for _, h := range readAll(t, l2, 0) {
		if _, err := batch.Validate(h); err != nil {
			t.Errorf("batch %d: %v", h.BaseOffset(), err)
		}
	}
}
