package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Run runs the benchmark s describes and returns its result. The error is
// non-nil when the run could not start or finish, or when the result
// itself is a failure (Result.Err: records that failed to produce, an
// end-to-end check that found losses); a result is returned whenever
// records were sent or read, so a partial run still reports its figures.
//
// Run is safe for concurrent use with other Runs (each has its own
// clients). Cancelling ctx stops the run early; what was measured so far
// is returned with a note.
func Run(ctx context.Context, s Spec) (*Result, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	if os.Getenv("GOGC") == "" {
		// The load generator's own collections show up as latency of the
		// broker under test: collect less often for the run, as the Open
		// Messaging Benchmark tunes its clients' JVMs.
		defer debug.SetGCPercent(debug.SetGCPercent(loadGCPercent))
	}
	setup, err := s.NewClient(ctx)
	if err != nil {
		return nil, err
	}
	defer setup.Close()
	freshHeap()
	cpu := startClientCPU()
	var res *Result
	switch s.Mode {
	case ModeProduce:
		res, err = runProduce(ctx, &s, setup)
	case ModeConsume:
		res, err = runConsume(ctx, &s, setup)
	default:
		res, err = runE2E(ctx, &s, setup)
	}
	cpu.fill(res)
	return res, err
}

// freshHeap collects the garbage of whatever ran before in this process
// (bench/compare prepares a consume by producing in the same process) and
// returns the free memory to the OS, so every run starts as a fresh
// client process would. Without it, a consume right after a produce of
// 500 MB paid 2.5-3x more client CPU per record, whatever the broker.
func freshHeap() {
	runtime.GC()
	debug.FreeOSMemory()
}

// loadGCPercent is the GOGC of a run (a few MB of live heap: 5x of it).
const loadGCPercent = 400

func newRun(topic string, partitions int32) *run {
	return &run{id: rand.Uint64(), topic: topic, partitions: partitions, base: time.Now()}
}

// newResult is a Result with s's settings.
func newResult(s *Spec, partitions int32, idempotent bool, notes []string) *Result {
	res := &Result{Mode: s.Mode, Topic: s.Topic, Partitions: partitions, Notes: notes}
	if s.Mode != ModeConsume {
		res.Producers, res.RecordSize, res.Acks = s.Producers, s.RecordSize, s.Acks.String()
		res.Idempotent, res.Compression, res.TargetRate = idempotent, s.Compression, s.Rate
	}
	return res
}

// prepareProduce creates the topic if needed and decides idempotence:
// when asked for but the broker cannot do it (no InitProducerId), the run
// goes on without it and a note says so.
func prepareProduce(ctx context.Context, s *Spec, cl *kgo.Client) (partitions int32, idempotent bool, notes []string, err error) {
	partitions, notes, err = ensureTopic(ctx, cl, s.Topic, s.Partitions)
	if err != nil || !s.Idempotent {
		return partitions, false, notes, err
	}
	ok, err := idempotenceSupported(ctx, cl)
	if err != nil {
		return 0, false, nil, err
	}
	if !ok {
		notes = append(notes, "idempotence asked for, but the broker does not serve InitProducerId (API key 22): "+
			"ran acks=all WITHOUT idempotence")
	}
	return partitions, ok, notes, nil
}

func runProduce(ctx context.Context, s *Spec, cl *kgo.Client) (*Result, error) {
	partitions, idem, notes, err := prepareProduce(ctx, s, cl)
	if err != nil {
		return nil, err
	}
	r := newRun(s.Topic, partitions)
	ps, err := newProducers(ctx, s, r, idem)
	if err != nil {
		return nil, err
	}
	defer ps.close()
	res := newResult(s, partitions, idem, notes)
	prog := startProgress(s.Progress, s.ProgressEvery, ModeProduce, &r.counters)
	r.base = time.Now()
	perr := ps.produce(ctx, s)
	prog.stop()
	var hist Histogram
	lastAck := ps.fill(res, &hist)
	res.Records, res.Bytes = r.counters.acked.Load(), r.counters.ackedBytes.Load()
	res.setThroughput(time.Duration(lastAck))
	res.Latency = latencyOf(&hist)
	noteInterrupt(ctx, res)
	return res, joinRunErr(perr, res)
}

func noteInterrupt(ctx context.Context, res *Result) {
	if ctx.Err() != nil {
		res.Notes = append(res.Notes, "interrupted: the figures cover the run until then")
	}
}

// joinRunErr is the error Run returns: what stopped the run, else what the
// result says failed.
func joinRunErr(runErr error, res *Result) error {
	if runErr != nil {
		return fmt.Errorf("%s: %w", res.Mode, runErr)
	}
	return res.Err()
}
