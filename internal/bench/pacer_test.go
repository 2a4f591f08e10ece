package bench

import (
	"context"
	"testing"
	"time"
)

func TestPacerSchedule(t *testing.T) {
	start := time.Unix(1000, 0)
	tests := []struct {
		rate float64
		want []time.Duration // offsets of the first events from start
	}{
		{1000, []time.Duration{0, time.Millisecond, 2 * time.Millisecond, 3 * time.Millisecond}},
		{3, []time.Duration{0, 333333333, 666666666, time.Second}},
		{20000, []time.Duration{0, 50 * time.Microsecond, 100 * time.Microsecond}},
	}
	for _, tt := range tests {
		p := NewPacer(tt.rate, start)
		for i, w := range tt.want {
			if got := p.Next().Sub(start); got != w {
				t.Errorf("rate %v: event %d due at +%v, want +%v", tt.rate, i, got, w)
			}
		}
	}
}

func TestPacerWaitKeepsRate(t *testing.T) {
	const rate, events = 2000.0, 100 // 50 ms of schedule
	start := time.Now()
	p := NewPacer(rate, start)
	for range events {
		stamp, err := p.Wait(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		// An early event is stamped when it goes out, never with its
		// future due time (that would take the time it was early off
		// its latency).
		if ahead := time.Until(stamp); ahead > 0 {
			t.Fatalf("Wait stamped an event %v in the future", ahead)
		}
	}
	// The last event is due at (events-1)/rate; Wait must not run ahead of
	// it by more than minSleep.
	if el, want := time.Since(start), time.Duration((events-1)/rate*float64(time.Second))-minSleep; el < want {
		t.Errorf("%d events at %v/s took %v, want >= %v", events, rate, el, want)
	}
}

func TestPacerStampsEarlyEventsWhenTheyGoOut(t *testing.T) {
	// The first event is due half of minSleep from now: Wait sends it at
	// once and stamps it with when it went out, not with its due time
	// (which is later than the return unless the call itself took that
	// long, and then the due time is the right stamp and inside the call).
	before := time.Now()
	start := before.Add(minSleep / 2)
	p := NewPacer(1, start)
	stamp, err := p.Wait(context.Background())
	after := time.Now()
	if err != nil {
		t.Fatal(err)
	}
	if stamp.Before(before) || stamp.After(after) {
		t.Fatalf("stamp %v is outside the call [%v, %v] (due %v)", stamp, before, after, start)
	}
}

func TestPacerCatchesUp(t *testing.T) {
	// Behind schedule: the due times keep the schedule, Wait does not sleep.
	start := time.Now().Add(-time.Second)
	p := NewPacer(100, start)
	for i := range 50 {
		due, err := p.Wait(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if want := start.Add(time.Duration(i) * 10 * time.Millisecond); !due.Equal(want) {
			t.Fatalf("event %d due %v, want %v", i, due, want)
		}
	}
}

func TestPacerWaitCancelled(t *testing.T) {
	p := NewPacer(0.001, time.Now()) // the second event is due in 1000 s
	ctx, cancel := context.WithCancel(context.Background())
	if _, err := p.Wait(ctx); err != nil {
		t.Fatalf("first event: %v", err)
	}
	cancel()
	if _, err := p.Wait(ctx); err != context.Canceled {
		t.Errorf("Wait after cancel = %v, want context.Canceled", err)
	}
}
