package storage

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/sluice-io/sluice/internal/model"
	"github.com/sluice-io/sluice/internal/storage/storagetest"
)

// BenchmarkAppend appends 1 KiB batches (the leader path: header patch,
// pwrite, index update), rolling 64 MiB segments.
func BenchmarkAppend(b *testing.B) {
	cfg := DefaultConfig()
	cfg.SegmentBytes = 64 << 20
	l := newTestLog(b, cfg)
	batch := storagetest.BatchOfSize(1024, 0)
	b.SetBytes(int64(len(batch)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := l.Append(batch, 0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendJanitor is BenchmarkAppend on a log whose idle files a
// janitor closes, as sluice serve runs it (the unpin stamps the use).
func BenchmarkAppendJanitor(b *testing.B) {
	j := newTestJanitor(b, time.Minute)
	cfg := DefaultConfig()
	cfg.SegmentBytes = 64 << 20
	cfg.Janitor = j
	l := newTestLog(b, cfg)
	batch := storagetest.BatchOfSize(1024, 0)
	b.SetBytes(int64(len(batch)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := l.Append(batch, 0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendWaitDurable is acks=all from many goroutines: each append
// waits for its fsync, shared by group commit.
func BenchmarkAppendWaitDurable(b *testing.B) {
	l := newTestLog(b, DefaultConfig())
	var rounds int64
	l.onSync = func() { rounds++ }
	b.SetBytes(1024)
	b.ReportAllocs()
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		batch := storagetest.BatchOfSize(1024, 0)
		for pb.Next() {
			base, err := l.Append(batch, 0)
			if err == nil {
				err = l.WaitDurable(context.Background(), base+1)
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/float64(max(rounds, 1)), "appends/fsync")
}

// BenchmarkRead serves 64 KiB fetches at random offsets of a 64 MiB log of
// 1 KiB batches (index lookup, header walk, chunk bounds; no data copy).
func BenchmarkRead(b *testing.B) {
	cfg := DefaultConfig()
	cfg.SegmentBytes = 16 << 20
	l := newTestLog(b, cfg)
	batch := storagetest.BatchOfSize(1024, 0)
	for range 64 << 10 {
		if _, err := l.Append(batch, 0); err != nil {
			b.Fatal(err)
		}
	}
	end := int64(l.LogEndOffset())
	r := rand.New(rand.NewPCG(1, 2))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		c, err := l.Read(model.Offset(r.Int64N(end)), 64<<10, true)
		if err != nil || c.Empty() {
			b.Fatal(c, err)
		}
	}
}

// BenchmarkReadJanitor is BenchmarkRead on a log whose idle files a
// janitor closes, as sluice serve runs it (each Chunk is stamped).
func BenchmarkReadJanitor(b *testing.B) {
	j := newTestJanitor(b, time.Minute)
	cfg := DefaultConfig()
	cfg.SegmentBytes = 16 << 20
	cfg.Janitor = j
	l := newTestLog(b, cfg)
	batch := storagetest.BatchOfSize(1024, 0)
	for range 64 << 10 {
		if _, err := l.Append(batch, 0); err != nil {
			b.Fatal(err)
		}
	}
	end := int64(l.LogEndOffset())
	r := rand.New(rand.NewPCG(1, 2))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		c, err := l.Read(model.Offset(r.Int64N(end)), 64<<10, true)
		if err != nil || c.Empty() {
			b.Fatal(c, err)
		}
	}
}

// BenchmarkOffsetIndexLookup looks up random offsets in a full 10 MiB index
// (1.3 M entries).
func BenchmarkOffsetIndexLookup(b *testing.B) {
	x := &offsetIndex{}
	if err := x.openWritable(filepath.Join(b.TempDir(), "i.index"), offsetEntrySize, 10<<20, 0); err != nil {
		b.Fatal(err)
	}
	defer x.close()
	for i := int64(0); !x.full(); i++ {
		x.append(model.Offset(i*4), i*4096)
	}
	n := x.entries() * 4
	r := rand.New(rand.NewPCG(1, 2))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, pos := x.lookup(model.Offset(r.Int64N(n))); pos < 0 {
			b.Fatal(pos)
		}
	}
}

// BenchmarkOpen1GiB reopens a log holding 1 GiB of 1 KiB batches in one
// segment, after a clean shutdown and after a crash (full CRC scan of the
// unflushed segment and index rebuild). Skipped with -short.
func BenchmarkOpen1GiB(b *testing.B) {
	if testing.Short() {
		b.Skip("writes 1 GiB")
	}
	cfg := DefaultConfig()
	cfg.SegmentBytes = 1<<30 + 1<<20
	dir := filepath.Join(b.TempDir(), "t-0")
	l, err := Create(dir, model.NewTopicID(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	batch := storagetest.BatchOfSize(1024, 0)
	for range 1 << 20 {
		if _, err := l.Append(batch, 0); err != nil {
			b.Fatal(err)
		}
	}
	l.Close()
	b.Run("clean", func(b *testing.B) {
		for b.Loop() {
			l, err := Open(dir, cfg)
			if err != nil || l.LogEndOffset() != 1<<20 {
				b.Fatal(err)
			}
			l.Close()
		}
	})
	b.Run("unclean", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			l, _ := Open(dir, cfg)
			l.Append(batch, 0) // invalidates the clean marker
			l.crash()
			b.StartTimer()
			l, err := Open(dir, cfg)
			if err != nil || l.scanBytes.Load() < 1<<30 {
				b.Fatal(err, l.scanBytes.Load())
			}
			b.StopTimer()
			l.TruncateTo(1 << 20)
			l.Close()
			b.StartTimer()
		}
	})
}
