// Package produce holds `sluice produce`: it reads records from stdin, one
// per line by default (or as an input --format says), and writes them to a
// topic through franz-go's producer, reporting per-partition offsets.
package produce

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-io/sluice/internal/cli/clientcmd"
)

// flushOnInterrupt bounds how long an interrupted produce waits for the
// records it already read.
const flushOnInterrupt = 5 * time.Second

const long = `Produce records to TOPIC from stdin, one record per line by default.

--key-delim D splits each line at the first D into key and value.
--format describes records exactly, with placeholders:
  %k   the key (empty text: a null key)
  %v   the value (required)
  %h   headers, written k1=v1;k2=v2 (the form 'sluice consume -f %h' prints)
  %%   a percent sign
and the escapes \n \r \t \0 \\. Placeholders must be separated by text; a
field ends at the first occurrence of the text after it. The text after the
last placeholder ends a record ("\n" when the format ends in a placeholder),
so the value may hold spaces: '%k %v' reads "key some value" lines.

--header k=v adds a header to every record. At the end, a summary prints;
the command exits non-zero, with the Kafka error, if any record failed.`

// New returns the `produce` command.
func New(cfg *clientcmd.Config) *cobra.Command {
	o := &options{}
	c := &cobra.Command{
		Use:   "produce TOPIC",
		Short: "Write records read from stdin to a topic",
		Long:  long,
		Example: `  echo hello | sluice produce greetings
  printf 'k1:v1\nk2:v2\n' | sluice produce orders --key-delim :
  sluice produce orders -f '%k %h %v\n' < records.txt     # "key a=1;b=2 value"
  sluice produce orders -H source=cli -p 0 --acks 1 --compression zstd -v`,
		Args: clientcmd.ExactArgs(1, "one topic name"),
		RunE: func(cmd *cobra.Command, args []string) error { return o.run(cmd, cfg, args[0]) },
	}
	f := c.Flags()
	f.StringVarP(&o.keyDelim, "key-delim", "k", "", "split each line into key and value at the first occurrence of this text")
	f.StringVarP(&o.format, "format", "f", "", "input format with %k %v %h placeholders (see above)")
	f.StringArrayVarP(&o.headers, "header", "H", nil, "header key=value added to every record (repeatable)")
	f.Int32VarP(&o.partition, "partition", "p", -1, "write every record to this partition (-1: hash the key, or spread keyless records)")
	f.StringVar(&o.acks, "acks", "all", "acknowledgements to wait for: 0, 1 or all")
	f.StringVarP(&o.compression, "compression", "z", "snappy", "batch compression: none, gzip, snappy, lz4 or zstd")
	f.DurationVar(&o.linger, "linger", 10*time.Millisecond, "how long a batch waits for more records before it is sent")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "print the offsets written to each partition")
	return c
}

// producer reads records and hands them to the client.
type producer struct {
	plan      *plan
	cl        *kgo.Client
	partition int32
	tally     *tally
}

func (o *options) run(cmd *cobra.Command, cfg *clientcmd.Config, topic string) error {
	pl, err := o.resolve()
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	cl, err := cfg.NewClient(ctx, append(pl.opts, kgo.DefaultProduceTopic(topic))...)
	if err != nil {
		return err
	}
	defer cl.Close()
	if err := checkTopic(ctx, cl, topic, o.partition); err != nil {
		return err
	}
	p := &producer{plan: pl, cl: cl, partition: max(o.partition, 0), tally: newTally()}
	readErr := p.runUntilInterrupt(ctx, cmd.InOrStdin())
	reportErr := p.tally.report(cmd.OutOrStdout(), topic, o.verbose, o.acks != "0")
	return errors.Join(readErr, reportErr)
}

// checkTopic fails early, with a clear message, on a missing topic or
// partition instead of letting every record time out.
func checkTopic(ctx context.Context, cl *kgo.Client, topic string, partition int32) error {
	td, err := clientcmd.DescribeTopic(ctx, kadm.NewClient(cl), topic)
	if err != nil {
		return err
	}
	if partition >= 0 {
		return clientcmd.CheckPartition(td, partition)
	}
	return nil
}

// runUntilInterrupt produces everything in in, then waits for delivery. On
// an interrupt it stops reading and waits a little for what was read.
func (p *producer) runUntilInterrupt(ctx context.Context, in io.Reader) error {
	done := make(chan error, 1)
	go func() { done <- p.readAll(ctx, in) }()
	select {
	case err := <-done:
		if ferr := p.cl.Flush(ctx); ferr != nil && err == nil {
			err = fmt.Errorf("flush: %w", ferr)
		}
		return err
	case <-ctx.Done():
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), flushOnInterrupt)
		defer cancel()
		_ = p.cl.Flush(fctx) // undelivered records show in the summary
		return errors.New("interrupted before the end of the input")
	}
}

// readAll reads records until EOF and produces each one.
func (p *producer) readAll(ctx context.Context, in io.Reader) error {
	rr := newRecordReader(in, p.plan.format.Delimiter())
	for n := 1; ; n++ {
		text, err := rr.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read input: %w", err)
		}
		r, err := p.record(text)
		if err != nil {
			return fmt.Errorf("input record %d: %w", n, err)
		}
		p.tally.sent.Add(1)
		p.cl.Produce(ctx, r, p.tally.promise)
	}
}

// record builds a record from its text. The record owns a copy of the
// text, as the client keeps it until delivery.
func (p *producer) record(text []byte) (*kgo.Record, error) {
	parts, err := p.plan.format.Split(bytes.Clone(text))
	if err != nil {
		return nil, err
	}
	r := &kgo.Record{Value: parts.value, Partition: p.partition, Headers: p.plan.headers}
	if r.Value == nil {
		r.Value = []byte{} // an empty value, not a null (tombstone)
	}
	if len(parts.key) > 0 {
		r.Key = parts.key
	}
	if len(parts.headers) > 0 {
		if r.Headers, err = clientcmd.ParseHeaders(slices.Clip(p.plan.headers), parts.headers); err != nil {
			return nil, err
		}
	}
	return r, nil
}
