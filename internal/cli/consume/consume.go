// Package consume holds `sluice consume`: it reads records from a topic,
// from chosen offsets or as a member of a consumer group, and prints them
// by a --format string (rpk/kcat style) or as JSON lines.
package consume

import (
	"bufio"
	"context"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-io/sluice/internal/cli/clientcmd"
)

const long = `Consume records from TOPIC and print them, by default each value on a line.

--offset picks where to start: start (the oldest record), end (only new
records), N (offset N), @MS (the first record at or after the timestamp MS,
in Unix milliseconds) or -N (the last N records of each partition). Offsets
outside the log are clamped into it. With --group, the group's committed
offsets win and --offset only applies to partitions without one; offsets of
printed records are committed.

--format prints each record by a template:
  %t topic   %p partition   %o offset   %d timestamp (Unix ms)
  %T timestamp (RFC 3339, UTC)   %k key   %v value
  %h headers as k1=v1;k2=v2   %% a percent sign
and the escapes \n \r \t \0 \\. A null key or value prints as nothing.
--json prints one JSON object per record instead.

The command runs until -n records are printed, the end is reached
(--exit-at-end: the high watermarks when it started), or it is interrupted
(Ctrl-C). A partition whose log ends in a transaction marker is not yet
seen to reach its end.`

// options are the flags of `sluice consume`.
type options struct {
	offset     string
	num        int
	partitions []int32
	group      string
	format     string
	json       bool
	exitAtEnd  bool
}

// New returns the `consume` command.
func New(cfg *clientcmd.Config) *cobra.Command {
	o := &options{}
	c := &cobra.Command{
		Use:   "consume TOPIC",
		Short: "Print records from a topic",
		Long:  long,
		Example: `  sluice consume orders                          # everything, then wait for more
  sluice consume orders -o end                   # only new records
  sluice consume orders -o -10 --exit-at-end     # the last 10 of each partition
  sluice consume orders -p 0 -o 42 -n 1          # the record at offset 42
  sluice consume orders -f '%p:%o %k=%v\n'
  sluice consume orders -o @1700000000000 --json
  sluice consume orders -g billing               # as a member of group billing`,
		Args: clientcmd.ExactArgs(1, "one topic name"),
		RunE: func(cmd *cobra.Command, args []string) error { return o.run(cmd, cfg, args[0]) },
	}
	f := c.Flags()
	f.StringVarP(&o.offset, "offset", "o", "start", "where to start: start, end, N, @timestamp_ms or -N")
	f.IntVarP(&o.num, "num", "n", 0, "stop after this many records (0: no limit)")
	f.Int32SliceVarP(&o.partitions, "partition", "p", nil, "consume only these partitions (repeatable; default: all)")
	f.StringVarP(&o.group, "group", "g", "", "consume as a member of this consumer group, committing offsets")
	f.StringVarP(&o.format, "format", "f", "", `output format (see above; default '%v\n')`)
	f.BoolVar(&o.json, "json", false, "print each record as a JSON object on one line")
	f.BoolVarP(&o.exitAtEnd, "exit-at-end", "e", false, "stop at the high watermark each partition had at start")
	return c
}

// validate checks the flags; every mistake is a UsageError naming the flag.
func (o *options) validate() (Offset, error) {
	off, err := ParseOffset(o.offset)
	if err != nil {
		return Offset{}, err
	}
	switch {
	case o.num < 0:
		return Offset{}, clientcmd.Usagef("--num %d: want a record count >= 0 (0: no limit)", o.num)
	case o.group != "" && len(o.partitions) > 0:
		return Offset{}, clientcmd.Usagef("--partition cannot be used with --group: the group assigns partitions")
	case o.group != "" && o.exitAtEnd:
		return Offset{}, clientcmd.Usagef("--exit-at-end cannot be used with --group: a member does not know which partitions it will get")
	case o.json && o.format != "":
		return Offset{}, clientcmd.Usagef("--json and --format both given: use one")
	}
	for _, p := range o.partitions {
		if p < 0 {
			return Offset{}, clientcmd.Usagef("--partition %d: want a partition number >= 0", p)
		}
	}
	return off, nil
}

func (o *options) run(cmd *cobra.Command, cfg *clientcmd.Config, topic string) error {
	off, err := o.validate()
	if err != nil {
		return err
	}
	out := bufio.NewWriterSize(cmd.OutOrStdout(), 64<<10)
	write, err := o.writer(out)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	c := &consumer{topic: topic, out: out, write: write, warn: cmd.ErrOrStderr(), limit: o.num, group: o.group != ""}
	opts, err := o.plan(ctx, cfg, topic, off, c)
	if err != nil {
		return err
	}
	if c.cl, err = cfg.NewClient(ctx, opts...); err != nil {
		return err
	}
	defer c.cl.Close()
	return c.run(ctx)
}

// writer returns how records are printed.
func (o *options) writer(out *bufio.Writer) (func(*kgo.Record) error, error) {
	if o.json {
		return newJSONWriter(out).write, nil
	}
	format := o.format
	if format == "" {
		format = `%v\n`
	}
	f, err := ParseFormat("--format", format)
	if err != nil {
		return nil, err
	}
	return (&textWriter{f: f, w: out}).write, nil
}

// plan checks the topic and returns the consumer options: a group member,
// or exact start offsets per partition (and, with --exit-at-end, the ends
// to stop at, set on c).
func (o *options) plan(ctx context.Context, cfg *clientcmd.Config, topic string, off Offset, c *consumer) ([]kgo.Opt, error) {
	adm, err := cfg.NewAdmin(ctx)
	if err != nil {
		return nil, err
	}
	defer adm.Close()
	td, err := clientcmd.DescribeTopic(ctx, adm, topic)
	if err != nil {
		return nil, err
	}
	if o.group != "" {
		return []kgo.Opt{kgo.ConsumerGroup(o.group), kgo.ConsumeTopics(topic),
			kgo.ConsumeStartOffset(off.kgo()), kgo.AutoCommitMarks()}, nil
	}
	a, err := assign(ctx, adm, td, o.partitions, off)
	if err != nil {
		return nil, err
	}
	starts := make(map[int32]kgo.Offset, len(a.start))
	for p, s := range a.start {
		starts[p] = kgo.NewOffset().At(s)
	}
	if o.exitAtEnd {
		c.remaining = make(map[int32]int64)
		for p, e := range a.end {
			if a.start[p] < e {
				c.remaining[p] = e
			}
		}
	}
	return []kgo.Opt{kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: starts})}, nil
}
