package consume

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-io/sluice/internal/cli/clientcmd"
)

// commitOnExit bounds the final offset commit of a group consumer.
const commitOnExit = 10 * time.Second

// consumer polls records and writes them out until a stop condition. It
// is not safe for concurrent use.
type consumer struct {
	cl    *kgo.Client
	topic string
	out   *bufio.Writer
	write func(*kgo.Record) error
	warn  io.Writer // warnings, e.g. data loss the client recovered from
	limit int       // stop after this many records; 0: no limit
	group bool      // mark written records for commit

	// remaining holds, with --exit-at-end, the high watermark of every
	// partition not yet read to it; nil without --exit-at-end.
	remaining map[int32]int64

	count int
	marks []*kgo.Record // reused: the records of one poll, to mark
}

// run consumes until -n records, the end (with --exit-at-end) or an
// interrupt (ctx done), which is a normal way to stop and not an error.
func (c *consumer) run(ctx context.Context) error {
	err := c.loop(ctx)
	if ferr := c.out.Flush(); err == nil {
		err = ferr
	}
	if c.group {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), commitOnExit)
		defer cancel()
		if cerr := c.cl.CommitMarkedOffsets(cctx); cerr != nil && err == nil {
			err = fmt.Errorf("commit offsets: %w", cerr)
		}
	}
	return err
}

func (c *consumer) loop(ctx context.Context) error {
	for !c.done() {
		n := -1
		if c.limit > 0 {
			n = c.limit - c.count
		}
		fs := c.cl.PollRecords(ctx, n)
		if ctx.Err() != nil || fs.IsClientClosed() {
			return nil
		}
		if err := c.fetchErrors(fs); err != nil {
			return err
		}
		if err := c.writeAll(fs); err != nil {
			return err
		}
		if err := c.out.Flush(); err != nil {
			return err
		}
	}
	return nil
}

func (c *consumer) done() bool {
	return (c.limit > 0 && c.count >= c.limit) || (c.remaining != nil && len(c.remaining) == 0)
}

// writeAll writes the records of one poll and tracks the stop conditions.
func (c *consumer) writeAll(fs kgo.Fetches) error {
	c.marks = c.marks[:0]
	for it := fs.RecordIter(); !it.Done() && !c.done(); {
		r := it.Next()
		if !c.beforeEnd(r) {
			continue
		}
		if err := c.write(r); err != nil {
			return fmt.Errorf("write output: %w", err)
		}
		c.count++
		c.marks = append(c.marks, r)
	}
	if c.group && len(c.marks) > 0 {
		c.cl.MarkCommitRecords(c.marks...)
	}
	return nil
}

// beforeEnd reports whether r is to be printed under --exit-at-end (always
// true without it): it is below its partition's end. The partition is done
// once its last record before the end is seen.
//
// Limitation: the client never returns control records, so a partition
// whose log ends in a transaction marker never shows offset end-1 and is
// not seen to finish; the command then runs until interrupted.
func (c *consumer) beforeEnd(r *kgo.Record) bool {
	if c.remaining == nil {
		return true
	}
	end, ok := c.remaining[r.Partition]
	if !ok || r.Offset >= end {
		return false
	}
	if r.Offset+1 >= end {
		delete(c.remaining, r.Partition)
	}
	return true
}

// fetchErrors returns the first fatal fetch error. Data loss the client
// already recovered from is a warning.
func (c *consumer) fetchErrors(fs kgo.Fetches) error {
	for _, fe := range fs.Errors() {
		if _, ok := errors.AsType[*kgo.ErrDataLoss](fe.Err); ok {
			fmt.Fprintf(c.warn, "warning: %v\n", fe.Err)
			continue
		}
		if fe.Partition < 0 {
			return fmt.Errorf("consume: %w", fe.Err)
		}
		return fmt.Errorf("consume partition %d: %w", fe.Partition, clientcmd.TopicError(c.topic, fe.Err, ""))
	}
	return nil
}
