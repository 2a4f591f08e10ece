package topic

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sluice-io/sluice/internal/cli/clientcmd"
)

type addPartitionsOptions struct {
	num    int
	dryRun bool
}

func newAddPartitions(cfg *clientcmd.Config) *cobra.Command {
	o := &addPartitionsOptions{}
	c := &cobra.Command{
		Use:   "add-partitions NAME... --num N",
		Short: "Raise a topic's partition count to N",
		Long: `Raise the partition count of topics to N in total (CreatePartitions), like
kafka-topics.sh --alter --partitions N. N counts all partitions, old and new;
a topic cannot lose partitions. Keyed records may map to other partitions
afterwards.`,
		Example: `  sluice topic add-partitions orders --num 12
  sluice topic add-partitions orders payments -n 24 --dry-run`,
		Args: clientcmd.MinArgs(1, "at least one topic name"),
		RunE: func(cmd *cobra.Command, topics []string) error { return o.run(cmd, cfg, topics) },
	}
	f := c.Flags()
	f.IntVarP(&o.num, "num", "n", 0, "total number of partitions wanted (required)")
	f.BoolVar(&o.dryRun, "dry-run", false, "only validate the change (validate_only)")
	return c
}

func (o *addPartitionsOptions) run(cmd *cobra.Command, cfg *clientcmd.Config, topics []string) error {
	if o.num < 1 || o.num > 1<<31-1 {
		return clientcmd.Usagef("--num %d: want the new total partition count (>= 1); it is required", o.num)
	}
	adm, err := cfg.NewAdmin(cmd.Context())
	if err != nil {
		return err
	}
	defer adm.Close()
	update, ok := adm.UpdatePartitions, fmt.Sprintf("OK (%d partitions)", o.num)
	if o.dryRun {
		update, ok = adm.ValidateUpdatePartitions, "OK (dry run: not changed)"
	}
	resps, err := update(cmd.Context(), o.num, topics...)
	if err != nil {
		return fmt.Errorf("create partitions: %w", err)
	}
	return clientcmd.TopicResults(cmd.OutOrStdout(), topics, ok, func(topic string) (string, error) {
		r, err := resps.On(topic, nil)
		if err == nil {
			err = r.Err
		}
		return r.ErrMessage, err
	})
}
