package topic

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sluice-io/sluice/internal/cli/clientcmd"
)

// listedTopic is one row of `topic list`, and its --json form.
type listedTopic struct {
	Name       string `json:"name"`
	Partitions int    `json:"partitions"`
	Replicas   int    `json:"replicas"`
	Internal   bool   `json:"internal"`
}

func newList(cfg *clientcmd.Config) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List topics",
		Long: `List every topic in the cluster (Metadata) with its partition count,
replication factor and whether it is internal (e.g. __consumer_offsets).`,
		Example: `  sluice topic list
  sluice topic list --json | jq -r '.[].name'`,
		Args: clientcmd.ExactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			topics, err := listTopics(cmd, cfg)
			if err != nil {
				return err
			}
			if asJSON {
				return clientcmd.WriteJSON(cmd.OutOrStdout(), topics)
			}
			t := clientcmd.NewTable(cmd.OutOrStdout(), "NAME", "PARTITIONS", "REPLICAS", "INTERNAL")
			for _, lt := range topics {
				t.Row(lt.Name, lt.Partitions, lt.Replicas, lt.Internal)
			}
			return t.Flush()
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print a JSON array of {name, partitions, replicas, internal}")
	return c
}

func listTopics(cmd *cobra.Command, cfg *clientcmd.Config) ([]listedTopic, error) {
	adm, err := cfg.NewAdmin(cmd.Context())
	if err != nil {
		return nil, err
	}
	defer adm.Close()
	tds, err := adm.ListTopicsWithInternal(cmd.Context())
	if err != nil {
		return nil, fmt.Errorf("list topics: %w", err)
	}
	topics := make([]listedTopic, 0, len(tds))
	for _, td := range tds.Sorted() {
		topics = append(topics, listedTopic{
			Name:       td.Topic,
			Partitions: len(td.Partitions),
			Replicas:   td.Partitions.NumReplicas(),
			Internal:   td.IsInternal,
		})
	}
	return topics, nil
}
