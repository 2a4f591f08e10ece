package bench

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// consumer reads a topic from its start, as kafka-consumer-perf-test does.
// Not safe for concurrent use.
type consumer struct {
	s       *Spec
	cl      *kgo.Client
	c       *counters
	ends    map[int32]int64 // end offsets when the run started
	pos     map[int32]int64 // next offset to read, per partition
	records int64
	bytes   int64
	start   time.Time
	last    time.Time // when the last record arrived
}

func runConsume(ctx context.Context, s *Spec, cl *kgo.Client) (*Result, error) {
	partitions, err := topicPartitions(ctx, cl, s.Topic)
	if err != nil {
		return nil, err
	}
	starts, err := kadm.NewClient(cl).ListStartOffsets(ctx, s.Topic)
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("list start offsets of %q: %w", s.Topic, err)
	}
	endsL, err := listEndOffsets(ctx, cl, s.Topic)
	if err != nil {
		return nil, fmt.Errorf("list end offsets of %q: %w", s.Topic, err)
	}
	from := make(map[int32]kgo.Offset)
	c := &consumer{s: s, ends: make(map[int32]int64), pos: make(map[int32]int64)}
	var available int64
	starts.Each(func(o kadm.ListedOffset) {
		from[o.Partition] = kgo.NewOffset().At(o.Offset)
		c.pos[o.Partition] = o.Offset
	})
	endsL.Each(func(o kadm.ListedOffset) {
		c.ends[o.Partition] = o.Offset
		available += o.Offset - c.pos[o.Partition]
	})
	if s.Records == 0 && s.Duration == 0 && available == 0 {
		return nil, fmt.Errorf("topic %q: %w (it is empty: run `sluice bench produce` first)", s.Topic, ErrNoRecords)
	}
	var fetches fetchStats
	c.cl, err = s.NewClient(ctx, kgo.ClientID("sluice-bench"), kgo.WithHooks(&fetches),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{s.Topic: from}))
	if err != nil {
		return nil, err
	}
	defer c.cl.Close()
	var r run
	c.c = &r.counters
	res := newResult(s, partitions, false, nil)
	prog := startProgress(s.Progress, s.ProgressEvery, ModeConsume, c.c)
	cerr := c.loop(ctx, res)
	prog.stop()
	res.Records, res.Bytes = c.records, c.bytes
	fetches.fill(res)
	res.setThroughput(c.last.Sub(c.start))
	noteInterrupt(ctx, res)
	return res, joinRunErr(cerr, res)
}

// loop polls until the target is read, the duration is over, nothing new
// arrives for DrainTimeout, or ctx ends.
func (c *consumer) loop(ctx context.Context, res *Result) error {
	c.start = time.Now()
	c.last = c.start
	if c.s.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.s.Duration)
		defer cancel()
	}
	for !c.done() {
		pctx, cancel := context.WithTimeout(ctx, c.s.DrainTimeout)
		fs := c.cl.PollFetches(pctx)
		idle := pctx.Err() != nil && ctx.Err() == nil
		cancel()
		if ctx.Err() != nil {
			return nil // duration over or interrupted
		}
		if idle {
			res.Notes = append(res.Notes, fmt.Sprintf("stopped: no new record for %v", c.s.DrainTimeout))
			return nil
		}
		var ferr error
		fs.EachError(func(_ string, p int32, err error) {
			if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
				ferr = fmt.Errorf("fetch partition %d: %w", p, err)
			}
		})
		if ferr != nil {
			return ferr
		}
		c.take(fs)
	}
	return nil
}

// take counts the records of one poll, up to the target.
func (c *consumer) take(fs kgo.Fetches) {
	n0 := c.records
	for it := fs.RecordIter(); !it.Done(); {
		r := it.Next()
		c.records++
		c.bytes += int64(len(r.Value))
		c.pos[r.Partition] = r.Offset + 1
		if c.s.Records > 0 && c.records >= c.s.Records {
			break
		}
	}
	if c.records != n0 {
		c.last = time.Now()
		c.c.consumed.Store(c.records)
		c.c.consumedBytes.Store(c.bytes)
	}
}

// done reports whether the target is read: --records when set, else (with
// no --duration) everything the topic held at the start.
func (c *consumer) done() bool {
	switch {
	case c.s.Records > 0:
		return c.records >= c.s.Records
	case c.s.Duration > 0:
		return false
	}
	for p, end := range c.ends {
		if c.pos[p] < end {
			return false
		}
	}
	return true
}
