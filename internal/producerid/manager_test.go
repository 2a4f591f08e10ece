package producerid

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
)

// fakeController allocates consecutive blocks, optionally failing.
type fakeController struct {
	mu    sync.Mutex
	next  int64 // guarded by mu
	calls int   // guarded by mu
	fail  atomic.Bool
}

func (f *fakeController) alloc(_ context.Context, count int) (int64, error) {
	if f.fail.Load() {
		return 0, errors.New("no quorum")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	first := f.next
	f.next += int64(count)
	return first, nil
}

func (f *fakeController) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

func TestNextPrefetchesBeforeRunningOut(t *testing.T) {
	fc := &fakeController{next: 5000}
	m := New(fc.alloc, 10)
	ctx := context.Background()
	tests := []struct {
		want      int64
		wantCalls int // block requests made once this id is out
	}{
		{5000, 1}, {5001, 1}, {5002, 1}, {5003, 1}, {5004, 1}, {5005, 1}, {5006, 1}, {5007, 1},
		{5008, 2}, // 90% used: the next block is fetched now
		{5009, 2},
		{5010, 2}, // ... and taken without a wait
	}
	for _, tt := range tests {
		id, err := m.Next(ctx)
		if err != nil || int64(id) != tt.want || fc.callCount() != tt.wantCalls {
			t.Fatalf("Next = %d, %v (%d calls); want %d (%d calls)", id, err, fc.callCount(), tt.want, tt.wantCalls)
		}
	}
}

func TestNextReportsAllocatorFailure(t *testing.T) {
	fc := &fakeController{}
	fc.fail.Store(true)
	m := New(fc.alloc, 10)
	if _, err := m.Next(context.Background()); err == nil {
		t.Fatal("Next succeeded without a block")
	}
	fc.fail.Store(false)
	if id, err := m.Next(context.Background()); err != nil || id != 0 {
		t.Fatalf("after recovery: %d, %v; want 0", id, err)
	}
}

// TestNextConcurrentUnique: many callers, small blocks, no id twice.
func TestNextConcurrentUnique(t *testing.T) {
	fc := &fakeController{}
	m := New(fc.alloc, 7)
	var mu sync.Mutex
	seen := map[int64]bool{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				id, err := m.Next(context.Background())
				mu.Lock()
				if err != nil || seen[int64(id)] {
					t.Errorf("id %d, %v: duplicate or error", id, err)
				}
				seen[int64(id)] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != 1600 {
		t.Fatalf("%d distinct ids, want 1600", len(seen))
	}
}

func TestNextHonoursContext(t *testing.T) {
	block := make(chan struct{})
	m := New(func(ctx context.Context, count int) (int64, error) {
		select {
		case <-block:
			return 0, nil
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}, 10)
	var wg sync.WaitGroup
	wg.Go(func() { m.Next(context.Background()) })
	// A second caller waits for the first one's request and gives up.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := m.Next(ctx); done <- err }()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	close(block)
	wg.Wait()
}
