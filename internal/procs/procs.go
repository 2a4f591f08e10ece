// Package procs sizes the Go scheduler (GOMAXPROCS) to the broker's load.
//
// A lightly loaded broker wakes a goroutine for almost every request. While
// a second scheduler slot (P) is idle, the runtime answers each such wake
// by waking another OS thread to run the goroutine on another core; the
// thread mostly finds the work already taken and sleeps again. Those
// futex calls and context switches cost more CPU than the requests. One P
// serves a light load with none of them: goroutines hand over on one
// thread, and a goroutine blocked in a system call (fsync) still gives its
// P to another thread. A Governor keeps one P while the process uses
// little CPU and restores every P as soon as it needs more than about one
// core's worth.
package procs

import (
	"log/slog"
	"runtime"
	"syscall"
	"time"
)

// Config tunes a Governor. Zero fields take the defaults in brackets.
type Config struct {
	// Max is the number of Ps under load [runtime.GOMAXPROCS(0) at Start].
	// A Max of 1 leaves nothing to govern: Start does nothing.
	Max int
	// Interval is how often CPU use is sampled [100ms].
	Interval time.Duration
	// Up is the CPU use, in cores over one interval, at which a single P
	// is deemed short of room and Max is restored [0.8].
	Up float64
	// Down is the CPU use below which the process goes back to one P once
	// it has stayed there for DownAfter [0.5 cores, 2s].
	Down      float64
	DownAfter time.Duration
}

func (c Config) withDefaults() Config {
	if c.Max == 0 {
		c.Max = runtime.GOMAXPROCS(0)
	}
	if c.Interval == 0 {
		c.Interval = 100 * time.Millisecond
	}
	if c.Up == 0 {
		c.Up = 0.8
	}
	if c.Down == 0 {
		c.Down = 0.5
	}
	if c.DownAfter == 0 {
		c.DownAfter = 2 * time.Second
	}
	return c
}

// Governor samples the process's CPU time and sets GOMAXPROCS.
type Governor struct {
	stop chan struct{}
	done chan struct{}
}

// Start begins governing GOMAXPROCS from its current value. It returns nil
// (nothing to stop) when there is a single P to begin with.
func Start(cfg Config, log *slog.Logger) *Governor {
	cfg = cfg.withDefaults()
	if cfg.Max <= 1 {
		return nil
	}
	g := &Governor{stop: make(chan struct{}), done: make(chan struct{})}
	go g.run(cfg, log)
	return g
}

// Stop ends governing and restores Max Ps. Safe on a nil Governor.
func (g *Governor) Stop() {
	if g == nil {
		return
	}
	close(g.stop)
	<-g.done
}

func (g *Governor) run(cfg Config, log *slog.Logger) {
	defer close(g.done)
	t := time.NewTicker(cfg.Interval)
	defer t.Stop()
	p := newPolicy(cfg, runtime.GOMAXPROCS(0))
	lastWall, lastCPU := time.Now(), CPUTime()
	for {
		select {
		case <-g.stop:
			if p.procs != cfg.Max {
				runtime.GOMAXPROCS(cfg.Max)
			}
			return
		case now := <-t.C:
			cpu := CPUTime()
			if n, changed := p.observe(now.Sub(lastWall), cpu-lastCPU); changed {
				runtime.GOMAXPROCS(n)
				log.Debug("scheduler resized", "gomaxprocs", n, "cores_used", p.lastUse)
			}
			lastWall, lastCPU = now, cpu
		}
	}
}

// CPUTime is the user and system CPU time of the whole process so far
// (0 if the kernel will not tell).
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// policy decides the number of Ps from CPU use samples.
type policy struct {
	cfg     Config
	procs   int
	low     time.Duration // how long use has stayed below Down
	lastUse float64       // cores, last sample
}

func newPolicy(cfg Config, procs int) *policy { return &policy{cfg: cfg, procs: procs} }

// observe takes one sample (wall time elapsed, CPU time used in it) and
// returns the number of Ps to run with and whether it changed.
func (p *policy) observe(wall, cpu time.Duration) (int, bool) {
	if wall <= 0 {
		return p.procs, false
	}
	use := cpu.Seconds() / wall.Seconds()
	p.lastUse = use
	switch {
	case p.procs < p.cfg.Max && use >= p.cfg.Up:
		p.procs, p.low = p.cfg.Max, 0
		return p.procs, true
	case p.procs > 1 && use < p.cfg.Down:
		p.low += wall
		if p.low >= p.cfg.DownAfter {
			p.procs, p.low = 1, 0
			return p.procs, true
		}
	default:
		p.low = 0
	}
	return p.procs, false
}
