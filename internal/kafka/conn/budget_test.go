package conn

import (
	"context"
	"testing"
	"time"
)

// TestBudgetAdmits walks a budget through admissions and releases on two
// connections and checks each decision.
func TestBudgetAdmits(t *testing.T) {
	type step struct {
		conn    int   // 0 or 1
		admit   int64 // bytes to admit; 0 releases the connection's oldest
		fits    bool
		queued  int64 // budget.queued after the step (when bounded)
		inBytes int64 // budget.bytes after the step (when bounded)
	}
	tests := []struct {
		name   string
		limits RequestLimits
		steps  []step
	}{
		{"per-connection bytes", RequestLimits{PerConnBytes: 100}, []step{
			{0, 60, true, 0, 0},
			{0, 40, true, 0, 0},  // exactly the bound
			{0, 1, false, 0, 0},  // over it
			{1, 100, true, 0, 0}, // another connection has its own bound
			{0, 0, true, 0, 0},   // release 60
			{0, 60, true, 0, 0},
		}},
		{"first request always fits", RequestLimits{PerConnBytes: 100, QueuedBytes: 150}, []step{
			{0, 500, true, 0, 500}, // over both bounds, but alone
			{0, 1, false, 0, 500},
			{1, 10, true, 0, 510}, // alone on its connection
			{1, 10, false, 0, 510},
			{0, 0, true, 0, 10},
			{1, 10, true, 0, 20},
		}},
		{"queued requests", RequestLimits{QueuedRequests: 2}, []step{
			{0, 1, true, 0, 0},
			{0, 1, true, 1, 0},
			{1, 1, true, 1, 0}, // first on its connection: not queued
			{1, 1, true, 2, 0},
			{0, 1, false, 2, 0},
			{1, 1, false, 2, 0},
			{0, 0, true, 2, 0}, // the oldest was not queued
			{0, 0, true, 1, 0},
			{1, 1, true, 2, 0},
		}},
		{"queued bytes across connections", RequestLimits{QueuedBytes: 100}, []step{
			{0, 50, true, 0, 50},
			{1, 40, true, 0, 90},
			{0, 20, false, 0, 90},
			{1, 10, true, 0, 100},
			{1, 0, true, 0, 60},
			{0, 20, true, 0, 80},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBudget(DefaultMaxInFlight, tt.limits)
			var f [2]inFlight
			var held [2][]ticket
			for i, s := range tt.steps {
				if s.admit == 0 {
					b.release(&f[s.conn], held[s.conn][0])
					held[s.conn] = held[s.conn][1:]
				} else {
					tk, ok := b.tryAdmit(&f[s.conn], s.admit)
					if ok != s.fits {
						t.Fatalf("step %d: admit %d on conn %d: fits=%v, want %v", i, s.admit, s.conn, ok, s.fits)
					}
					if ok {
						held[s.conn] = append(held[s.conn], tk)
					}
				}
				if got := b.queued.Load(); got != s.queued {
					t.Fatalf("step %d: queued %d, want %d", i, got, s.queued)
				}
				if got := b.bytes.Load(); got != s.inBytes {
					t.Fatalf("step %d: bytes %d, want %d", i, got, s.inBytes)
				}
			}
			for c := range f {
				b.releaseAll(&f[c])
			}
			if b.queued.Load() != 0 || b.bytes.Load() != 0 {
				t.Errorf("after releaseAll: queued %d, bytes %d", b.queued.Load(), b.bytes.Load())
			}
		})
	}
}

// TestBudgetMaxInFlight: a connection holds at most MaxInFlight requests.
func TestBudgetMaxInFlight(t *testing.T) {
	b := newBudget(3, RequestLimits{})
	var f inFlight
	for i := range 3 {
		if _, ok := b.tryAdmit(&f, 1); !ok {
			t.Fatalf("request %d refused", i)
		}
	}
	if _, ok := b.tryAdmit(&f, 1); ok {
		t.Fatal("a fourth request admitted")
	}
}

// TestBudgetWaitWakes: a reader waiting for room is woken by a release on
// another connection, and gives up when its connection ends.
func TestBudgetWaitWakes(t *testing.T) {
	b := newBudget(DefaultMaxInFlight, RequestLimits{QueuedBytes: 100})
	var a, c inFlight
	held, _ := b.tryAdmit(&a, 100)
	b.tryAdmit(&c, 1) // c's first request
	done := make(chan error, 1)
	go func() {
		_, err := b.admit(context.Background(), &c, 50)
		done <- err
	}()
	deadline := time.Now().Add(10 * time.Second)
	for b.waiters.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the reader never waited")
		}
		time.Sleep(time.Millisecond)
	}
	select {
	case err := <-done:
		t.Fatalf("admitted with no room: %v", err)
	default:
	}
	b.release(&a, held)
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		_, err := b.admit(ctx, &c, 100)
		done <- err
	}()
	for b.waiters.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; err == nil {
		t.Fatal("admitted after its connection ended")
	}
}
