package procs

import (
	"io"
	"log/slog"
	"runtime"
	"testing"
	"time"
)

func TestPolicyDropsToOneAfterLowUseAndRestoresUnderLoad(t *testing.T) {
	cfg := Config{Max: 4}.withDefaults()
	p := newPolicy(cfg, 4)
	tick := 100 * time.Millisecond
	cores := func(c float64) time.Duration { return time.Duration(c * float64(tick)) }

	// 1.9 s under Down, then a busy sample: the low streak restarts.
	for i := range 19 {
		if n, changed := p.observe(tick, cores(0.2)); changed {
			t.Fatalf("sample %d: changed to %d before DownAfter", i, n)
		}
	}
	if _, changed := p.observe(tick, cores(0.6)); changed {
		t.Fatal("changed on a sample between Down and Up")
	}
	for i := range 19 {
		if _, changed := p.observe(tick, cores(0.2)); changed {
			t.Fatalf("sample %d after the busy one: the low streak did not restart", i)
		}
	}
	if n, changed := p.observe(tick, cores(0.2)); !changed || n != 1 {
		t.Fatalf("after 2 s below Down: %d Ps (changed %v), want 1", n, changed)
	}
	// One P: use between Down and Up keeps it; one sample at Up restores Max.
	if _, changed := p.observe(tick, cores(0.7)); changed {
		t.Fatal("one P left on a sample below Up")
	}
	if n, changed := p.observe(tick, cores(0.85)); !changed || n != 4 {
		t.Fatalf("at 0.85 cores on one P: %d Ps (changed %v), want 4", n, changed)
	}
	if _, changed := p.observe(0, 0); changed {
		t.Fatal("an empty sample changed the size")
	}
}

func TestGovernorStopRestoresMax(t *testing.T) {
	before := runtime.GOMAXPROCS(0)
	t.Cleanup(func() { runtime.GOMAXPROCS(before) })
	runtime.GOMAXPROCS(2)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if g := Start(Config{Max: 1}, log); g != nil {
		t.Fatal("Start with Max 1 returned a governor")
	}
	g := Start(Config{Interval: time.Millisecond, Down: 1e9, DownAfter: time.Millisecond}, log)
	deadline := time.Now().Add(10 * time.Second)
	for runtime.GOMAXPROCS(0) != 1 {
		if time.Now().After(deadline) {
			t.Fatal("governor never dropped to one P with every sample below Down")
		}
		time.Sleep(time.Millisecond)
	}
	g.Stop()
	if n := runtime.GOMAXPROCS(0); n != 2 {
		t.Fatalf("after Stop: GOMAXPROCS %d, want 2 (Max)", n)
	}
}
