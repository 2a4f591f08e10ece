package runtimetest

import (
	"sort"
	"sync"
	"time"

	"github.com/sluice-io/sluice/internal/coord/runtime"
)

// Clock is a runtime.Clock whose time moves only by Advance, which fires
// the timers that fall due, in deadline order, on the caller's goroutine.
// Safe for concurrent use.
type Clock struct {
	mu     sync.Mutex
	now    time.Time     // guarded by mu
	seq    int           // guarded by mu: arming order, breaks deadline ties
	timers []*clockTimer // guarded by mu
}

type clockTimer struct {
	c    *Clock
	at   time.Time
	seq  int
	f    func()
	done bool // guarded by c.mu
}

// NewClock returns a clock at start.
func NewClock(start time.Time) *Clock { return &Clock{now: start} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// AfterFunc arms f to run at Now()+d. It never runs f itself, even for
// d <= 0: the next Advance (of any length, 0 too) does.
func (c *Clock) AfterFunc(d time.Duration, f func()) runtime.Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	t := &clockTimer{c: c, at: c.now.Add(d), seq: c.seq, f: f}
	c.timers = append(c.timers, t)
	return t
}

// Stop disarms the timer.
func (t *clockTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := !t.done
	t.done = true
	return was
}

// Advance moves time forward by d, firing every timer due by then
// (including timers that those arm), each at its own deadline.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	target := c.now.Add(d)
	c.mu.Unlock()
	for {
		t := c.nextDue(target)
		if t == nil {
			break
		}
		t.f()
	}
	c.mu.Lock()
	c.now = target
	c.mu.Unlock()
}

// Pending is how many timers are armed.
func (c *Clock) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, t := range c.timers {
		if !t.done {
			n++
		}
	}
	return n
}

// nextDue removes and returns the earliest live timer due by target and
// moves the time to its deadline.
func (c *Clock) nextDue(target time.Time) *clockTimer {
	c.mu.Lock()
	defer c.mu.Unlock()
	live := c.timers[:0]
	for _, t := range c.timers {
		if !t.done {
			live = append(live, t)
		}
	}
	c.timers = live
	sort.Slice(live, func(i, j int) bool {
		if !live[i].at.Equal(live[j].at) {
			return live[i].at.Before(live[j].at)
		}
		return live[i].seq < live[j].seq
	})
	if len(live) == 0 || live[0].at.After(target) {
		return nil
	}
	t := live[0]
	t.done = true
	c.timers = live[1:]
	if t.at.After(c.now) {
		c.now = t.at
	}
	return t
}
