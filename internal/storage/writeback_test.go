package storage

import (
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// fakeRangeSync records the sync_file_range calls of a pacer.
type fakeRangeSync struct {
	mu          sync.Mutex
	started     [][2]int64 // [from, to) of each SYNC_FILE_RANGE_WRITE
	inFlight    int
	maxInFlight int
	waits       int
}

func (f *fakeRangeSync) call(_ uintptr, off, n int64, flags int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if flags == unix.SYNC_FILE_RANGE_WRITE {
		f.started = append(f.started, [2]int64{off, off + n})
		f.inFlight++
		f.maxInFlight = max(f.maxInFlight, f.inFlight)
		return nil
	}
	f.inFlight--
	f.waits++
	return nil
}

// startedUpTo is the end of the contiguous started ranges from 0, or -1
// when they are not contiguous.
func (f *fakeRangeSync) startedUpTo() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	end := int64(0)
	for _, r := range f.started {
		if r[0] != end {
			return -1
		}
		end = r[1]
	}
	return end
}

func TestWritebackPacesAppendsWithTwoRangesInFlight(t *testing.T) {
	const chunk = 8 << 10
	fake := &fakeRangeSync{}
	w := newWriteback(chunk, fake.call)
	cfg := testConfig()
	cfg.Writeback = w
	l := newTestLog(t, cfg)
	appendBatches(t, l, 200, 1, 1000, 0) // ~210 KB in 200 appends
	size := l.Size()
	// Every append that left a chunk behind offered it; the last offer
	// ended within a chunk and a page of the log's end.
	deadline := time.Now().Add(10 * time.Second)
	for fake.startedUpTo() < size-chunk-pageSize && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	fake.mu.Lock()
	defer fake.mu.Unlock()
	end := int64(0)
	for i, r := range fake.started {
		if r[0] != end || r[1]-r[0] > chunk || r[1] <= r[0] || r[0]%pageSize != 0 || r[1]%pageSize != 0 {
			t.Fatalf("range %d: [%d, %d) after %d: want contiguous, page-aligned, at most %d bytes", i, r[0], r[1], end, chunk)
		}
		end = r[1]
	}
	if end < size-chunk-pageSize || end > size {
		t.Errorf("ranges cover [0, %d) of a %d-byte log: want all but the last chunk", end, size)
	}
	if fake.maxInFlight > 2 {
		t.Errorf("%d ranges in flight at once: want at most 2", fake.maxInFlight)
	}
	if fake.inFlight != 0 || fake.waits != len(fake.started) {
		t.Errorf("after Close: %d in flight, %d of %d waited for", fake.inFlight, fake.waits, len(fake.started))
	}
}

// The real system call, on a real log: appends, reads and Close are as
// without a pacer.
func TestWritebackWithTheKernel(t *testing.T) {
	w := NewWriteback(4096)
	defer w.Close()
	cfg := testConfig()
	cfg.Writeback = w
	l := newTestLog(t, cfg)
	appendBatches(t, l, 100, 10, 1000, 0)
	c, err := l.Read(0, 1<<30, true)
	if err != nil {
		t.Fatal(err)
	}
	if hs := splitBatches(t, chunkBytes(t, c)); len(hs) != 100 {
		t.Fatalf("read %d batches, want 100", len(hs))
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

// Close gives back the references of ranges still queued: the log's
// segments close for good.
func TestWritebackCloseReleasesQueuedRanges(t *testing.T) {
	block := make(chan struct{})
	w := newWriteback(4096, func(uintptr, int64, int64, int) error { <-block; return nil })
	cfg := testConfig()
	cfg.Writeback = w
	l := newTestLog(t, cfg)
	appendBatches(t, l, 20, 10, 1000, 0)
	seg := l.segments()[0]
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	close(block)
	w.Close()
	if r := seg.refs.Load(); r != 0 {
		t.Errorf("segment references after both closed: %d, want 0", r)
	}
}
