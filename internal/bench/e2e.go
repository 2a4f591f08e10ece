package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// e2eConsumer reads the run's records as they arrive. Its goroutine owns
// the checker, hist and lastNs until it returns.
type e2eConsumer struct {
	run        *run
	cl         *kgo.Client
	check      *Checker
	recordSize int64
	hist       Histogram // send-to-consume latency
	lastNs     int64     // sinceBase when the last new record arrived
	firstErr   error
}

func (c *e2eConsumer) loop(ctx context.Context) {
	for {
		fs := c.cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return
		}
		fs.EachError(func(_ string, _ int32, err error) {
			if c.firstErr == nil && !errors.Is(err, context.Canceled) {
				c.firstErr = err
			}
		})
		now := c.run.sinceBase()
		before := c.check.Received()
		for it := fs.RecordIter(); !it.Done(); {
			r := it.Next()
			if sent, ours := c.check.Observe(r.Partition, r.Value); ours {
				c.hist.Record(now - sent)
			}
		}
		if n := c.check.Received(); n != before {
			c.lastNs = now
			c.run.counters.consumed.Store(n)
			c.run.counters.consumedBytes.Store(n * c.recordSize)
		}
	}
}

// startOffsets are the end offsets of topic now: the run reads from there,
// so records of earlier runs are never read.
func startOffsets(ctx context.Context, cl *kgo.Client, topic string) (map[string]map[int32]kgo.Offset, error) {
	ends, err := listEndOffsets(ctx, cl, topic)
	if err != nil {
		return nil, fmt.Errorf("list end offsets of %q: %w", topic, err)
	}
	at := make(map[int32]kgo.Offset)
	ends.Each(func(o kadm.ListedOffset) { at[o.Partition] = kgo.NewOffset().At(o.Offset) })
	return map[string]map[int32]kgo.Offset{topic: at}, nil
}

// listEndOffsets lists topic's end offsets, retrying for a while a
// retriable answer: in a cluster, a topic just created reaches the other
// brokers' metadata a moment after the controller's answer.
func listEndOffsets(ctx context.Context, cl *kgo.Client, topic string) (kadm.ListedOffsets, error) {
	var last error
	for attempt := 0; attempt < 50; attempt++ {
		ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
		if err == nil {
			err = ends.Error()
		}
		if err == nil || !kerr.IsRetriable(err) {
			return ends, err
		}
		last = err
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return nil, last
}

func runE2E(ctx context.Context, s *Spec, cl *kgo.Client) (*Result, error) {
	partitions, idem, notes, err := prepareProduce(ctx, s, cl)
	if err != nil {
		return nil, err
	}
	from, err := startOffsets(ctx, cl, s.Topic)
	if err != nil {
		return nil, err
	}
	r := newRun(s.Topic, partitions)
	var fetches fetchStats
	ccl, err := s.NewClient(ctx, kgo.ClientID("sluice-bench"), kgo.WithHooks(&fetches), kgo.ConsumePartitions(from))
	if err != nil {
		return nil, err
	}
	defer ccl.Close()
	ps, err := newProducers(ctx, s, r, idem)
	if err != nil {
		return nil, err
	}
	defer ps.close()
	c := &e2eConsumer{run: r, cl: ccl, check: NewChecker(r.id, s.Producers, partitions), recordSize: int64(s.RecordSize)}
	res := newResult(s, partitions, idem, notes)
	prog := startProgress(s.Progress, s.ProgressEvery, ModeE2E, &r.counters)
	r.base = time.Now()
	cctx, stopConsumer := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.loop(cctx)
	}()
	perr := ps.produce(ctx, s)
	if !drain(ctx, &r.counters, s.DrainTimeout) && ctx.Err() == nil {
		res.Notes = append(res.Notes, fmt.Sprintf("stopped waiting for the consumer: no new record for %v", s.DrainTimeout))
	}
	stopConsumer()
	wg.Wait()
	prog.stop()
	c.finish(res, ps)
	fetches.fill(res)
	noteInterrupt(ctx, res)
	return res, joinRunErr(perr, res)
}

// drain waits until the consumer has every acknowledged record, for at
// most idle without progress; it reports whether it got them all.
func drain(ctx context.Context, c *counters, idle time.Duration) bool {
	target := c.acked.Load()
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	last, since := c.consumed.Load(), time.Now()
	for last < target {
		select {
		case <-ctx.Done():
			return false
		case now := <-t.C:
			if n := c.consumed.Load(); n != last {
				last, since = n, now
			} else if now.Sub(since) > idle {
				return false
			}
		}
	}
	return true
}

// finish fills res once producers and consumer have stopped.
func (c *e2eConsumer) finish(res *Result, ps *producers) {
	var ackHist Histogram
	ps.fill(res, &ackHist)
	res.AckLatency = latencyOf(&ackHist)
	res.Latency = latencyOf(&c.hist)
	parts := int(c.run.partitions)
	integ := c.check.Finish(
		func(i int) uint64 { return ps.list[i/parts].seqs[i%parts] },
		func(i int, seq uint64) bool { return ps.list[i/parts].isFailed(int32(i%parts), seq) },
	)
	res.Integrity = &integ
	res.Records = integ.Received
	res.Bytes = integ.Received * c.recordSize
	res.setThroughput(time.Duration(c.lastNs))
	if c.firstErr != nil {
		res.Notes = append(res.Notes, "consumer error: "+c.firstErr.Error())
	}
}
