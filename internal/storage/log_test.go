package storage

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/sluice-io/sluice/internal/batch"
	"github.com/sluice-io/sluice/internal/model"
	"github.com/sluice-io/sluice/internal/storage/storagetest"
)

func TestCreateRejectsExistingDir(t *testing.T) {
	dir := t.TempDir()
	if _, err := Create(dir, model.NewTopicID(), testConfig()); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("Create on existing dir: %v, want fs.ErrExist", err)
	}
	if _, err := Open(filepath.Join(dir, "missing"), testConfig()); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Open on missing dir: %v, want fs.ErrNotExist", err)
	}
}

func TestTopicIDRoundTrip(t *testing.T) {
	l := newTestLog(t, testConfig())
	id := l.TopicID()
	b, err := os.ReadFile(filepath.Join(l.Dir(), partitionMetadataName))
	if err != nil {
		t.Fatal(err)
	}
	if want := "version: 0\ntopic_id: " + id.String() + "\n"; string(b) != want {
		t.Errorf("partition.metadata = %q, want %q", b, want)
	}
	l2 := reopen(t, l, testConfig())
	if l2.TopicID() != id {
		t.Errorf("TopicID after reopen = %v, want %v", l2.TopicID(), id)
	}
}

func TestAppendAssignsOffsetsInPlace(t *testing.T) {
	l := newTestLog(t, testConfig())
	for i, n := range []int{1, 5, 3} {
		b := storagetest.Build(storagetest.Spec{Records: n, BaseOffset: 999})
		want := l.LogEndOffset()
		base, err := l.Append(b, model.LeaderEpoch(i))
		if err != nil {
			t.Fatal(err)
		}
		h := batch.Header(b)
		if base != want || model.Offset(h.BaseOffset()) != want || h.LeaderEpoch() != int32(i) {
			t.Errorf("batch %d: base %d, header base %d epoch %d; want %d, epoch %d", i, base, h.BaseOffset(), h.LeaderEpoch(), want, i)
		}
		if _, err := batch.Validate(b); err != nil {
			t.Errorf("batch %d no longer valid: %v", i, err)
		}
	}
	if got := l.LogEndOffset(); got != 9 {
		t.Errorf("LogEndOffset = %d, want 9", got)
	}
}

func TestAppendRejectsMalformed(t *testing.T) {
	l := newTestLog(t, testConfig())
	b := storagetest.Batch(2, 10, 0)
	for _, bad := range [][]byte{nil, b[:40], b[:len(b)-1], append(append([]byte{}, b...), 0)} {
		if _, err := l.Append(bad, 0); !errors.Is(err, batch.ErrCorrupt) {
			t.Errorf("Append(%d bytes) = %v, want ErrCorrupt", len(bad), err)
		}
	}
	cfg := testConfig()
	cfg.SegmentBytes = 200
	l.SetConfig(cfg)
	if _, err := l.Append(storagetest.BatchOfSize(300, 0), 0); !errors.Is(err, ErrRecordBatchTooLarge) {
		t.Errorf("oversized append = %v, want ErrRecordBatchTooLarge", err)
	}
}

func TestAppendReadAcrossRolls(t *testing.T) {
	cfg := testConfig()
	cfg.SegmentBytes = 10 << 10
	cfg.IndexIntervalBytes = 1000
	l := newTestLog(t, cfg)
	bases := appendBatches(t, l, 200, 3, 100, 1000)
	if n := len(l.segments()); n < 5 {
		t.Fatalf("%d segments, want several rolls", n)
	}
	for i, s := range l.segments() {
		if s.size.Load() > cfg.SegmentBytes {
			t.Errorf("segment %d has %d bytes > segment.bytes", i, s.size.Load())
		}
	}
	hs := readAll(t, l, 0)
	if len(hs) != len(bases) {
		t.Fatalf("read %d batches, want %d", len(hs), len(bases))
	}
	for i, h := range hs {
		if model.Offset(h.BaseOffset()) != bases[i] {
			t.Errorf("batch %d base %d, want %d", i, h.BaseOffset(), bases[i])
		}
	}
	// Every offset can be the start of a read.
	for off := model.Offset(0); off < l.LogEndOffset(); off += 7 {
		if got := readAll(t, l, off); len(got) == 0 {
			t.Fatalf("nothing read from %d", off)
		}
	}
}

func TestReopenAfterCloseKeepsEverything(t *testing.T) {
	cfg := testConfig()
	cfg.SegmentBytes = 8 << 10
	l := newTestLog(t, cfg)
	appendBatches(t, l, 100, 2, 200, 5000)
	before := chunkAll(t, l)
	leo, size := l.LogEndOffset(), l.Size()
	l2 := reopen(t, l, cfg)
	if l2.LogEndOffset() != leo || l2.Size() != size {
		t.Errorf("after reopen: end %d size %d, want %d %d", l2.LogEndOffset(), l2.Size(), leo, size)
	}
	if l2.RecoveryPoint() != leo {
		t.Errorf("recovery point after clean reopen = %d, want %d", l2.RecoveryPoint(), leo)
	}
	if l2.scanBytes.Load() != 0 {
		t.Errorf("clean reopen scanned %d bytes", l2.scanBytes.Load())
	}
	if !sameBytes(chunkAll(t, l2), before) {
		t.Error("bytes differ after reopen")
	}
	// Appends continue where they stopped, in the same active segment.
	appendBatches(t, l2, 10, 1, 10, 9000)
	if got := readAll(t, l2, 0); model.Offset(got[len(got)-1].NextOffset()) != l2.LogEndOffset() {
		t.Errorf("log does not read to its end after appends")
	}
}

// chunkAll concatenates the bytes of every segment as Read serves them.
func chunkAll(t testing.TB, l *Log) []byte {
	var out []byte
	next := l.LogStartOffset()
	for next < l.LogEndOffset() {
		c, err := l.Read(next, 1<<30, true)
		if err != nil {
			t.Fatal(err)
		}
		b := chunkBytes(t, c)
		hs := splitBatches(t, b)
		next = model.Offset(hs[len(hs)-1].NextOffset())
		out = append(out, b...)
	}
	return out
}

func TestAppendAsFollower(t *testing.T) {
	mk := func(base int64, n int, epoch int32) []byte {
		return storagetest.Build(storagetest.Spec{Records: n, BaseOffset: base, LeaderEpoch: epoch})
	}
	cat := func(bs ...[]byte) []byte {
		var out []byte
		for _, b := range bs {
			out = append(out, b...)
		}
		return out
	}
	corrupt := mk(5, 1, 0)
	corrupt[len(corrupt)-1] ^= 0xff
	tests := []struct {
		name       string
		data       []byte
		wantErr    error
		wantEnd    model.Offset
		wantEpochs []EpochEntry
	}{
		{"contiguous", cat(mk(5, 2, 1), mk(7, 3, 2)), nil, 10, []EpochEntry{{0, 0}, {1, 5}, {2, 7}}},
		{"gap allowed", cat(mk(8, 2, 1)), nil, 10, []EpochEntry{{0, 0}, {1, 8}}},
		{"below end", mk(4, 2, 1), ErrUnexpectedAppendOffset, 5, []EpochEntry{{0, 0}}},
		{"out of order", cat(mk(5, 2, 1), mk(6, 1, 1)), ErrOffsetsOutOfOrder, 5, []EpochEntry{{0, 0}}},
		{"bad crc", corrupt, batch.ErrCorrupt, 5, []EpochEntry{{0, 0}}},
		{"torn", mk(5, 2, 1)[:70], batch.ErrCorrupt, 5, []EpochEntry{{0, 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newTestLog(t, testConfig())
			if err := l.AppendAsFollower(mk(0, 5, 0)); err != nil {
				t.Fatal(err)
			}
			err := l.AppendAsFollower(tt.data)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("AppendAsFollower = %v, want %v", err, tt.wantErr)
			}
			if l.LogEndOffset() != tt.wantEnd {
				t.Errorf("LogEndOffset = %d, want %d", l.LogEndOffset(), tt.wantEnd)
			}
			readAll(t, l, 0)
			if got := l.LeaderEpochs(); !slices.Equal(got, tt.wantEpochs) {
				t.Errorf("LeaderEpochs = %v, want %v", got, tt.wantEpochs)
			}
		})
	}
}

func TestConcurrentAppendAndRead(t *testing.T) {
	cfg := testConfig()
	cfg.SegmentBytes = 16 << 10
	cfg.IndexIntervalBytes = 512
	l := newTestLog(t, cfg)
	const writers, perWriter = 4, 100
	var wg sync.WaitGroup
	done := make(chan struct{})
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				b := storagetest.Build(storagetest.Spec{Records: 1 + i%4, ValueSize: 50 + i%200})
				if _, err := l.Append(b, 0); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	var rg sync.WaitGroup
	for range 2 {
		rg.Add(1)
		go func() {
			defer rg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				next := model.Offset(0)
				for next < l.LogEndOffset() && !isClosed(done) {
					c, err := l.Read(next, 3000, true)
					if err != nil {
						t.Error(err)
						return
					}
					b := make([]byte, c.Size)
					c.ReadAt(b, 0)
					good, _ := batch.ScanStored(b, func(h batch.Header) error {
						next = model.Offset(h.NextOffset())
						return nil
					})
					if good != len(b) || c.Empty() {
						t.Errorf("read at %d: %d good bytes of %d", next, good, len(b))
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(done)
	rg.Wait()
	if got := len(readAll(t, l, 0)); got != writers*perWriter {
		t.Errorf("%d batches, want %d", got, writers*perWriter)
	}
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func TestPreallocate(t *testing.T) {
	cfg := testConfig()
	cfg.Preallocate = true
	cfg.SegmentBytes = 64 << 10
	l := newTestLog(t, cfg)
	appendBatches(t, l, 100, 2, 1000, 0) // several rolls
	for _, s := range l.segments() {
		fi, _ := os.Stat(segmentName(s.dir, s.base, logSuffix))
		if fi.Size() != s.size.Load() {
			t.Errorf("segment %d: file %d bytes, data %d", s.base, fi.Size(), s.size.Load())
		}
	}
	l2 := crashAndOpen(t, l, cfg)
	if len(readAll(t, l2, 0)) != 100 {
		t.Error("batches lost after a crash with preallocation")
	}
}

func TestDelete(t *testing.T) {
	l := newTestLog(t, testConfig())
	appendBatches(t, l, 3, 1, 10, 0)
	if err := l.Delete(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(l.Dir()); !os.IsNotExist(err) {
		t.Errorf("directory still there: %v", err)
	}
	if _, err := l.Append(storagetest.Batch(1, 10, 0), 0); !errors.Is(err, ErrClosed) {
		t.Errorf("Append after Delete = %v", err)
	}
	if _, err := l.Read(0, 10, true); !errors.Is(err, ErrClosed) && !errors.Is(err, ErrOffsetOutOfRange) {
		t.Errorf("Read after Delete = %v", err)
	}
}
