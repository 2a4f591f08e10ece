package cluster

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/sluice-io/sluice/internal/cli/clientcmd"
)

func newLeaders(cfg *clientcmd.Config) *cobra.Command {
	c := &cobra.Command{
		Use:   "leaders",
		Short: "Partition leadership: elect leaders",
		Args:  clientcmd.ExactArgs(0, "a verb: elect"),
	}
	c.AddCommand(newElect(cfg))
	return c
}

func newElect(cfg *clientcmd.Config) *cobra.Command {
	var (
		typ        string
		all        bool
		partitions []string
	)
	c := &cobra.Command{
		Use:   "elect [TOPIC[:PARTITION]...]",
		Short: "Elect partition leaders (preferred or unclean), as kafka-leader-election.sh",
		Long: `Run leader elections (ElectLeaders). --type preferred (the default) makes
each partition's first replica its leader again when it is in sync;
--type unclean gives a partition with no leader its first live replica,
even one that is not in sync (records it lacks are lost). Name the
partitions as TOPIC (every partition) or TOPIC:PARTITION, or give --all.`,
		Example: `  sluice cluster leaders elect --all
  sluice cluster leaders elect orders:0 orders:3
  sluice cluster leaders elect --type unclean payments:2`,
		RunE: func(cmd *cobra.Command, args []string) error {
			how := kadm.ElectPreferredReplica
			switch typ {
			case "preferred":
			case "unclean":
				how = kadm.ElectLiveReplica
			default:
				return clientcmd.Usagef("--type %q: use preferred or unclean", typ)
			}
			partitions = append(partitions, args...)
			if all == (len(partitions) > 0) {
				return clientcmd.Usagef("name partitions (TOPIC or TOPIC:PARTITION) or give --all, not both or neither")
			}
			adm, err := cfg.NewAdmin(cmd.Context())
			if err != nil {
				return err
			}
			defer adm.Close()
			var set kadm.TopicsSet
			if !all {
				if set, err = topicSet(cmd, adm, partitions); err != nil {
					return err
				}
			}
			res, err := adm.ElectLeaders(cmd.Context(), how, set)
			if err != nil {
				return fmt.Errorf("elect leaders: %w", err)
			}
			t := clientcmd.NewTable(cmd.OutOrStdout(), "TOPIC", "PARTITION", "RESULT")
			failed := 0
			sorted := sortedResults(res)
			for _, r := range sorted {
				result := "elected"
				if r.Err != nil {
					result = r.Err.Error()
					if !strings.HasPrefix(result, "ELECTION_NOT_NEEDED") {
						failed++
					}
				}
				t.Row(r.Topic, r.Partition, result)
			}
			if err := t.Flush(); err != nil {
				return err
			}
			if failed > 0 {
				return fmt.Errorf("%d of %d elections failed", failed, len(sorted))
			}
			return nil
		},
	}
	c.Flags().StringVar(&typ, "type", "preferred", "preferred or unclean")
	c.Flags().BoolVar(&all, "all", false, "every partition of every topic")
	return c
}

// topicSet parses TOPIC and TOPIC:PARTITION; a bare topic is every
// partition it has.
func topicSet(cmd *cobra.Command, adm *kadm.Client, names []string) (kadm.TopicsSet, error) {
	set := kadm.TopicsSet{}
	for _, n := range names {
		topic, part, ok := strings.Cut(n, ":")
		if !ok {
			md, err := adm.Metadata(cmd.Context(), topic)
			if err != nil {
				return nil, fmt.Errorf("topic %s: %w", topic, err)
			}
			td, found := md.Topics[topic]
			if !found || td.Err != nil {
				return nil, fmt.Errorf("topic %s: not found", topic)
			}
			for p := range td.Partitions {
				set.Add(topic, p)
			}
			continue
		}
		p, err := strconv.ParseInt(part, 10, 32)
		if err != nil || p < 0 {
			return nil, clientcmd.Usagef("%q: the partition after ':' must be a number >= 0", n)
		}
		set.Add(topic, int32(p))
	}
	return set, nil
}

// sortedResults lists the results by topic, then partition.
func sortedResults(res kadm.ElectLeadersResults) []kadm.ElectLeadersResult {
	var out []kadm.ElectLeadersResult
	for _, ps := range res {
		for _, r := range ps {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b kadm.ElectLeadersResult) int {
		return cmp.Or(cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
	})
	return out
}
