package topic

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/cli/clientcmd"
)

type describeOptions struct {
	configs, partitions, allConfigs bool
}

func newDescribe(cfg *clientcmd.Config) *cobra.Command {
	o := &describeOptions{}
	c := &cobra.Command{
		Use:   "describe NAME",
		Short: "Show a topic's partitions and configs",
		Long: `Describe a topic: a summary, its configs that differ from the defaults (with
where each value comes from), and per partition the leader, leader epoch,
replicas, in-sync replicas (ISR), eligible leader replicas (ELR, KIP-966:
out of sync but holding every committed record), offline replicas (on
brokers that are fenced or gone), log start offset and high watermark.

With --print-configs and/or --print-partitions only those sections print.`,
		Example: `  sluice topic describe orders
  sluice topic describe orders -c                # configs only
  sluice topic describe orders -c --all-configs  # every config, defaults too
  sluice topic describe orders --print-partitions`,
		Args: clientcmd.ExactArgs(1, "one topic name"),
		RunE: func(cmd *cobra.Command, args []string) error { return o.run(cmd, cfg, args[0]) },
	}
	f := c.Flags()
	f.BoolVarP(&o.configs, "print-configs", "c", false, "print the configs section")
	f.BoolVarP(&o.partitions, "print-partitions", "p", false, "print the partitions section")
	f.BoolVar(&o.allConfigs, "all-configs", false, "list every config, including those at their default")
	return c
}

func (o *describeOptions) run(cmd *cobra.Command, cfg *clientcmd.Config, topic string) error {
	ctx := cmd.Context()
	cl, err := cfg.NewClient(ctx)
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	td, err := clientcmd.DescribeTopic(ctx, adm, topic)
	if err != nil {
		return err
	}
	all := !o.configs && !o.partitions
	w := cmd.OutOrStdout()
	if all {
		printSummary(w, td)
	}
	if all || o.configs {
		if err := o.printConfigs(ctx, w, adm, topic, all); err != nil {
			return err
		}
	}
	if all || o.partitions {
		return printPartitions(ctx, w, adm, eligibleLeaders(ctx, cl, topic), td, all)
	}
	return nil
}

func printSummary(w io.Writer, td kadm.TopicDetail) {
	fmt.Fprintln(w, "SUMMARY")
	t := clientcmd.NewTable(w, "NAME", "ID", "PARTITIONS", "REPLICAS", "INTERNAL")
	t.Row(td.Topic, td.ID, len(td.Partitions), td.Partitions.NumReplicas(), td.IsInternal)
	_ = t.Flush() // a write error shows on the next section's flush
	fmt.Fprintln(w)
}

func (o *describeOptions) printConfigs(ctx context.Context, w io.Writer, adm *kadm.Client, topic string, title bool) error {
	rcs, err := adm.DescribeTopicConfigs(ctx, topic)
	if err != nil {
		return fmt.Errorf("describe configs of topic %q: %w", topic, err)
	}
	rc, err := rcs.On(topic, nil)
	if err == nil {
		err = rc.Err
	}
	if err != nil {
		return clientcmd.TopicError(topic, err, rc.ErrMessage)
	}
	if title {
		fmt.Fprintln(w, "CONFIGS")
	}
	t := clientcmd.NewTable(w, "KEY", "VALUE", "SOURCE")
	for _, c := range rc.Configs {
		if !o.allConfigs && c.Source == kmsg.ConfigSourceDefaultConfig {
			continue
		}
		value := c.MaybeValue()
		if c.Sensitive {
			value = "(sensitive)"
		}
		t.Row(c.Key, value, c.Source)
	}
	if err := t.Flush(); err != nil {
		return err
	}
	if title {
		fmt.Fprintln(w)
	}
	return nil
}

// eligibleLeaders returns the eligible leader replicas of topic's
// partitions (KIP-966) from DescribeTopicPartitions, nil when the cluster
// does not answer it (a Kafka before 3.9).
func eligibleLeaders(ctx context.Context, cl *kgo.Client, topic string) map[int32][]int32 {
	out := map[int32][]int32{}
	var cursor *kmsg.DescribeTopicPartitionsRequestCursor
	for {
		req := kmsg.NewPtrDescribeTopicPartitionsRequest()
		rt := kmsg.NewDescribeTopicPartitionsRequestTopic()
		rt.Topic = topic
		req.Topics, req.ResponsePartitionLimit, req.Cursor = append(req.Topics, rt), 2000, cursor
		resp, err := req.RequestWith(ctx, cl)
		if err != nil || len(resp.Topics) == 0 || resp.Topics[0].ErrorCode != 0 {
			return nil
		}
		for _, p := range resp.Topics[0].Partitions {
			out[p.Partition] = p.EligibleLeaderReplicas
		}
		if resp.NextCursor == nil || resp.NextCursor.Topic != topic {
			return out
		}
		cursor = &kmsg.DescribeTopicPartitionsRequestCursor{Topic: topic, Partition: resp.NextCursor.Partition}
	}
}

func printPartitions(ctx context.Context, w io.Writer, adm *kadm.Client, elr map[int32][]int32, td kadm.TopicDetail, title bool) error {
	starts, err := adm.ListStartOffsets(ctx, td.Topic)
	if err != nil {
		return fmt.Errorf("list start offsets of topic %q: %w", td.Topic, err)
	}
	ends, err := adm.ListEndOffsets(ctx, td.Topic)
	if err != nil {
		return fmt.Errorf("list end offsets of topic %q: %w", td.Topic, err)
	}
	if title {
		fmt.Fprintln(w, "PARTITIONS")
	}
	t := clientcmd.NewTable(w, "PARTITION", "LEADER", "EPOCH", "REPLICAS", "ISR", "ELR", "OFFLINE", "LOG-START-OFFSET", "HIGH-WATERMARK", "ERROR")
	for _, p := range td.Partitions.Sorted() {
		start, serr := offsetCell(starts, td.Topic, p.Partition)
		end, eerr := offsetCell(ends, td.Topic, p.Partition)
		var eligible any = "-" // the cluster does not report them
		if elr != nil {
			eligible = orEmpty(elr[p.Partition])
		}
		t.Row(p.Partition, p.Leader, p.LeaderEpoch, p.Replicas, p.ISR, eligible, p.OfflineReplicas, start, end,
			firstErrorName(p.Err, serr, eerr))
	}
	return t.Flush()
}

// offsetCell is a listed offset for a table cell: the number, or "-" and
// the error that kept it from being listed.
func offsetCell(l kadm.ListedOffsets, topic string, p int32) (string, error) {
	o, ok := l.Lookup(topic, p)
	switch {
	case !ok:
		return "-", nil
	case o.Err != nil:
		return "-", o.Err
	}
	return fmt.Sprint(o.Offset), nil
}

// firstErrorName is the ERROR cell: the Kafka name of the first non-nil
// error, or "-".
// orEmpty is ids, or an empty list for nil (printed [] as the others).
func orEmpty(ids []int32) []int32 {
	if ids == nil {
		return []int32{}
	}
	return ids
}

func firstErrorName(errs ...error) string {
	for _, err := range errs {
		if err != nil {
			return clientcmd.Status(err, "-")
		}
	}
	return "-"
}
