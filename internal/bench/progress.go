package bench

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// counters are the live totals of a run, read by the progress line. Safe
// for concurrent use.
type counters struct {
	sent          atomic.Int64
	acked         atomic.Int64
	ackedBytes    atomic.Int64
	failed        atomic.Int64
	consumed      atomic.Int64 // e2e: distinct records of this run
	consumedBytes atomic.Int64
}

// progress prints a line to w every interval until stop is called.
type progress struct {
	stopOnce sync.Once
	done     chan struct{}
	wg       sync.WaitGroup
}

// startProgress starts the progress line of mode; with a nil w it does
// nothing.
func startProgress(w io.Writer, every time.Duration, mode Mode, c *counters) *progress {
	p := &progress{done: make(chan struct{})}
	if w == nil {
		return p
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		p.loop(w, every, mode, c)
	}()
	return p
}

func (p *progress) loop(w io.Writer, every time.Duration, mode Mode, c *counters) {
	t := time.NewTicker(every)
	defer t.Stop()
	start, last := time.Now(), time.Now()
	var lastRecs, lastBytes int64
	for {
		select {
		case <-p.done:
			return
		case now := <-t.C:
			recs, bytes := c.acked.Load(), c.ackedBytes.Load()
			if mode != ModeProduce {
				recs, bytes = c.consumed.Load(), c.consumedBytes.Load()
			}
			dt := now.Sub(last).Seconds()
			rate, mbs := float64(recs-lastRecs)/dt, float64(bytes-lastBytes)/mib/dt
			last, lastRecs, lastBytes = now, recs, bytes
			el := now.Sub(start).Round(time.Second)
			switch mode {
			case ModeProduce:
				fmt.Fprintf(w, "produce %v: %d acked, %.0f records/s, %.1f MB/s, %d errors\n", el, recs, rate, mbs, c.failed.Load())
			case ModeConsume:
				fmt.Fprintf(w, "consume %v: %d read, %.0f records/s, %.1f MB/s\n", el, recs, rate, mbs)
			default:
				fmt.Fprintf(w, "e2e %v: %d sent, %d acked, %d consumed, %.0f records/s, %.1f MB/s, %d errors\n",
					el, c.sent.Load(), c.acked.Load(), recs, rate, mbs, c.failed.Load())
			}
		}
	}
}

// stop ends the progress line; it may be called more than once.
func (p *progress) stop() {
	p.stopOnce.Do(func() { close(p.done) })
	p.wg.Wait()
}
