package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-io/sluice/internal/bench"
)

// workloadTimeout bounds one workload on one broker.
const workloadTimeout = 15 * time.Minute

// sample is one workload run on one broker in one round.
type sample struct {
	Round      int           `json:"round"`
	Broker     string        `json:"broker"`
	Workload   string        `json:"workload"`
	Result     *bench.Result `json:"result,omitempty"`
	CPUSeconds float64       `json:"broker_cpu_seconds"`
	Skipped    string        `json:"skipped,omitempty"`
	Error      string        `json:"error,omitempty"`
}

// brokerRun is one broker process's life in one round.
type brokerRun struct {
	Round       int     `json:"round"`
	Broker      string  `json:"broker"`
	ColdStartMs float64 `json:"cold_start_ms"`
	IdleRSSKB   int64   `json:"idle_rss_kb"`
	PeakRSSKB   int64   `json:"peak_rss_kb"`
	Error       string  `json:"error,omitempty"`
}

// results are every measurement of a comparison. Not safe for concurrent
// use.
type results struct {
	Samples []sample    `json:"samples"`
	Brokers []brokerRun `json:"brokers"`
}

// runBroker starts a fresh broker of kind, runs the workloads on it and
// stops it. A broker that fails is recorded and the comparison goes on;
// only an interruption stops it. The ceiling serves a consume from a
// canned batch of the workload's record size, so it is restarted when a
// consume needs another size than the running one.
func (rs *results) runBroker(ctx context.Context, round int, kind string, ws []workload, e env, verbose bool) error {
	var (
		b  *brokerProc
		br brokerRun
	)
	stop := func() {
		if b == nil {
			return
		}
		br.PeakRSSKB, _ = b.peakRSS()
		if err := b.stop(); err != nil {
			br.Error = err.Error()
		}
		rs.Brokers = append(rs.Brokers, br)
		b = nil
	}
	defer stop()
	for _, w := range ws {
		if size := ceilingSize(kind, w); size != 0 && size != e.synthetic {
			stop() // a ceiling serving another size, if any
			e.synthetic = size
		}
		if b == nil {
			var err error
			b, br, err = rs.start(ctx, round, kind, e)
			if err != nil {
				return err
			}
			if b == nil { // did not start: recorded, go on with the next broker
				for _, w := range ws {
					rs.Samples = append(rs.Samples, sample{Round: round, Broker: kind, Workload: w.name, Error: "broker did not start: " + br.Error})
				}
				return nil
			}
		}
		s := runWorkload(ctx, b, w, round, verbose)
		rs.Samples = append(rs.Samples, s)
		fmt.Fprintf(os.Stderr, "round %d: %s %s: %s\n", round, kind, w.name, oneLine(s))
		if ctx.Err() != nil {
			break
		}
	}
	return ctx.Err()
}

// ceilingSize is the canned record size the ceiling needs for w; 0 when
// any will do.
func ceilingSize(kind string, w workload) int {
	if kind != kindCeiling || w.spec.Mode != bench.ModeConsume {
		return 0
	}
	return w.prepare.RecordSize
}

// start starts a broker. A broker that does not start is recorded and
// returned as nil, with no error unless ctx ended.
func (rs *results) start(ctx context.Context, round int, kind string, e env) (*brokerProc, brokerRun, error) {
	fmt.Fprintf(os.Stderr, "round %d: %s starting\n", round, kind)
	br := brokerRun{Round: round, Broker: kind}
	b, err := startBroker(ctx, kind, e)
	if err != nil {
		if ctx.Err() != nil {
			return nil, br, ctx.Err()
		}
		br.Error = err.Error()
		rs.Brokers = append(rs.Brokers, br)
		fmt.Fprintf(os.Stderr, "round %d: %s did not start: %v\n", round, kind, err)
		return nil, br, nil
	}
	br.ColdStartMs, br.IdleRSSKB = float64(b.coldStart)/float64(time.Millisecond), b.idleRSS
	return b, br, nil
}

// newClient returns a NewClient for bench.Spec that reaches addr.
func newClient(addr string) func(context.Context, ...kgo.Opt) (*kgo.Client, error) {
	return func(ctx context.Context, opts ...kgo.Opt) (*kgo.Client, error) {
		cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr)}, opts...)...)
		if err != nil {
			return nil, err
		}
		if err := cl.Ping(ctx); err != nil {
			cl.Close()
			return nil, fmt.Errorf("reach %s: %w", addr, err)
		}
		return cl, nil
	}
}

func runWorkload(ctx context.Context, b *brokerProc, w workload, round int, verbose bool) sample {
	s := sample{Round: round, Broker: b.kind, Workload: w.name}
	if s.Skipped = skipReason(b.kind, w); s.Skipped != "" {
		return s
	}
	spec := w.spec
	spec.Topic = fmt.Sprintf("compare-%s-r%d", w.name, round)
	spec.NewClient = newClient(b.addr)
	if verbose {
		spec.Progress = os.Stderr
	}
	wctx, cancel := context.WithTimeout(ctx, workloadTimeout)
	defer cancel()
	if w.prepare != nil {
		prep := *w.prepare
		prep.Topic, prep.NewClient, prep.Progress = spec.Topic, spec.NewClient, spec.Progress
		if spec.Mode != bench.ModeConsume {
			prep.Topic += "-bulk"
		}
		if _, err := bench.Run(wctx, prep); err != nil {
			s.Error = "prepare: " + err.Error()
			return s
		}
	}
	var wr *other
	var err error
	switch {
	case w.writeBytes > 0:
		wr, err = startWriter(b.dir, w.writeBytes)
	case w.writeback:
		wr, err = startWriteback(b.dir)
	}
	if err != nil {
		s.Error = err.Error()
		return s
	}
	cpu0, err0 := b.cpu()
	res, err := bench.Run(wctx, spec)
	cpu1, err1 := b.cpu()
	s.Result = res
	if err != nil {
		s.Error = err.Error()
	}
	if wr != nil {
		if werr := wr.wait(); werr != nil && s.Error == "" {
			s.Error = werr.Error()
		}
	}
	if err0 == nil && err1 == nil {
		s.CPUSeconds = (cpu1 - cpu0).Seconds()
	} else if s.Error == "" {
		s.Error = fmt.Sprintf("broker CPU time: %v %v", err0, err1)
	}
	return s
}

func oneLine(s sample) string {
	switch {
	case s.Skipped != "":
		return "skipped: " + s.Skipped
	case s.Result == nil:
		return "error: " + s.Error
	}
	r := s.Result
	line := fmt.Sprintf("%.0f records/s, %.1f MB/s, broker CPU %.2f s", r.RecordsPerSec, r.MBPerSec, s.CPUSeconds)
	if r.Latency != nil {
		line += fmt.Sprintf(", p99 %.2f ms", r.Latency.P99Ms)
	}
	if s.Error != "" {
		line += " (error: " + s.Error + ")"
	}
	return line
}
