package group

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/sluice-io/sluice/internal/cli/clientcmd"
)

type seekOptions struct {
	topic      string
	partitions []int32
	to         string
	dryRun     bool
}

func newSeek(cfg *clientcmd.Config) *cobra.Command {
	o := &seekOptions{}
	c := &cobra.Command{
		Use:   "seek GROUP --topic TOPIC --to start|end|OFFSET|@TIMESTAMP",
		Short: "Move a group's committed offsets (the group must be empty)",
		Long: `Move the committed offsets of an empty group on a topic, like
kafka-consumer-groups.sh --reset-offsets --execute. The group's consumers
must be stopped: a group with active members is refused. --to is one of
  start       the log start offset (--to-earliest)
  end         the log end offset (--to-latest)
  OFFSET      that offset, clamped to [log start, log end] (--to-offset)
  @TIMESTAMP  the first offset whose timestamp is at or after TIMESTAMP, in
              Unix milliseconds or RFC 3339; the log end if none (--to-datetime)
Every partition of the topic moves, or only those given with --partition.
With --dry-run the new offsets are shown and nothing is committed.`,
		Example: `  sluice group seek billing --topic orders --to start
  sluice group seek billing --topic orders --to 1500 --partition 0 --partition 2
  sluice group seek billing --topic orders --to @2024-05-01T12:00:00Z --dry-run`,
		Args: clientcmd.ExactArgs(1, "one group id"),
		RunE: func(cmd *cobra.Command, args []string) error { return o.run(cmd, cfg, args[0]) },
	}
	f := c.Flags()
	f.StringVarP(&o.topic, "topic", "t", "", "topic whose committed offsets move (required)")
	f.Int32SliceVarP(&o.partitions, "partition", "p", nil, "only these partitions (repeatable; default all)")
	f.StringVar(&o.to, "to", "", "start, end, OFFSET or @TIMESTAMP (required)")
	f.BoolVar(&o.dryRun, "dry-run", false, "show the new offsets, commit nothing")
	return c
}

func (o *seekOptions) run(cmd *cobra.Command, cfg *clientcmd.Config, group string) error {
	if o.topic == "" {
		return clientcmd.Usagef("--topic is required: the topic whose committed offsets move")
	}
	tg, err := parseTarget(o.to)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	adm, err := cfg.NewAdmin(ctx)
	if err != nil {
		return err
	}
	defer adm.Close()
	if err := checkInactive(ctx, adm, group); err != nil {
		return err
	}
	parts, err := o.selectPartitions(ctx, adm)
	if err != nil {
		return err
	}
	offsets, err := resolve(ctx, adm, o.topic, parts, tg, cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	old, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		return groupError(group, err, "")
	}
	var committed kadm.OffsetResponses
	if !o.dryRun {
		if committed, err = adm.CommitOffsets(ctx, group, offsets); err != nil {
			return groupError(group, err, "")
		}
	}
	return o.report(cmd.OutOrStdout(), group, parts, offsets, old, committed)
}

// checkInactive refuses a group with members: moving the offsets under a
// running consumer would be overwritten by its next commit (Kafka's
// "Assignments can only be reset if the group is inactive").
func checkInactive(ctx context.Context, adm *kadm.Client, group string) error {
	dgs, err := adm.DescribeGroups(ctx, group)
	if err != nil {
		return fmt.Errorf("describe group %q: %w", group, err)
	}
	dg := dgs[group]
	switch {
	case dg.Err != nil && !errors.Is(dg.Err, kerr.GroupIDNotFound):
		return groupError(group, dg.Err, dg.ErrMessage)
	case dg.Err == nil && len(dg.Members) > 0:
		return errActiveMembers(group, dg.State, len(dg.Members))
	}
	if cg, ok := describeConsumerGroup(ctx, adm, group); ok && len(cg.Members) > 0 {
		return errActiveMembers(group, cg.State, len(cg.Members))
	}
	return nil
}

// selectPartitions is --partition, checked against the topic, or every
// partition of the topic.
func (o *seekOptions) selectPartitions(ctx context.Context, adm *kadm.Client) ([]int32, error) {
	td, err := clientcmd.DescribeTopic(ctx, adm, o.topic)
	if err != nil {
		return nil, err
	}
	if len(o.partitions) == 0 {
		ps := make([]int32, 0, len(td.Partitions))
		for _, pd := range td.Partitions.Sorted() {
			ps = append(ps, pd.Partition)
		}
		return ps, nil
	}
	for _, p := range o.partitions {
		if err := clientcmd.CheckPartition(td, p); err != nil {
			return nil, err
		}
	}
	ps := slices.Clone(o.partitions)
	slices.Sort(ps)
	return slices.Compact(ps), nil
}

func (o *seekOptions) report(w io.Writer, group string, parts []int32, offsets kadm.Offsets, old, committed kadm.OffsetResponses) error {
	t := clientcmd.NewTable(w, "GROUP", "TOPIC", "PARTITION", "OLD-OFFSET", "NEW-OFFSET", "STATUS")
	var errs []error
	for _, p := range parts {
		was := "-"
		if c, ok := old.Lookup(o.topic, p); ok && c.Err == nil && c.At >= 0 {
			was = fmt.Sprint(c.At)
		}
		status := "OK (dry run: not committed)"
		if !o.dryRun {
			var err error
			if r, ok := committed.Lookup(o.topic, p); !ok {
				err = errors.New("missing from the OffsetCommit response")
			} else {
				err = r.Err
			}
			err = groupError(group, err, "")
			status = clientcmd.Status(err, "OK")
			errs = append(errs, err)
		}
		now, _ := offsets.Lookup(o.topic, p)
		t.Row(group, o.topic, p, was, now.At, status)
	}
	if err := t.Flush(); err != nil {
		return err
	}
	return errors.Join(errs...)
}
