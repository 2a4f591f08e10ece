package bench

import (
	"context"
	"time"
)

// minSleep is the smallest wait a Pacer sleeps for: below it, events go
// out back to back and the schedule catches up, because a timer cannot
// sleep precisely for tens of microseconds.
const minSleep = time.Millisecond

// Pacer schedules events at a fixed rate from a start time: event n is due
// at start + n/rate. A producer that falls behind (a slow broker) sends
// the late events back to back until it is on schedule again, as a fixed
// rate benchmark must (the Open Messaging Benchmark does the same), and
// stamps each late event with its due time, so a stall shows in the
// measured latency instead of being hidden (coordinated omission). An
// event that goes out early (due less than minSleep ahead) is stamped
// with the time it went out: a stamp in the future would take the time it
// was early off its measured latency.
//
// A Pacer is not safe for concurrent use: give each producer its own.
type Pacer struct {
	start    time.Time
	interval float64 // nanoseconds between events
	n        int64
	timer    *time.Timer
}

// NewPacer returns a Pacer for rate events per second from start
// (rate > 0).
func NewPacer(rate float64, start time.Time) *Pacer {
	return &Pacer{start: start, interval: float64(time.Second) / rate}
}

// Next returns the due time of the next event and advances the schedule.
func (p *Pacer) Next() time.Time {
	due := p.start.Add(time.Duration(float64(p.n) * p.interval))
	p.n++
	return due
}

// Wait takes the next event's due time and sleeps until it, unless it is
// less than minSleep away. It returns the event's stamp, never in the
// future: its due time, or now if it goes out before it; or ctx's error.
func (p *Pacer) Wait(ctx context.Context) (time.Time, error) {
	due := p.Next()
	now := time.Now()
	d := due.Sub(now)
	if d < minSleep {
		if d > 0 {
			return now, ctx.Err()
		}
		return due, ctx.Err()
	}
	if p.timer == nil {
		p.timer = time.NewTimer(d)
	} else {
		p.timer.Reset(d)
	}
	select {
	case <-p.timer.C:
		return due, nil
	case <-ctx.Done():
		p.timer.Stop()
		return due, ctx.Err()
	}
}
