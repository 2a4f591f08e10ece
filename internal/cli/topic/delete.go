package topic

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sluice-io/sluice/internal/cli/clientcmd"
)

func newDelete(cfg *clientcmd.Config) *cobra.Command {
	return &cobra.Command{
		Use:     "delete NAME...",
		Aliases: []string{"rm"},
		Short:   "Delete topics and all their records",
		Long:    `Delete one or more topics (DeleteTopics). Their records are gone for good.`,
		Example: `  sluice topic delete orders
  sluice topic delete orders payments`,
		Args: clientcmd.MinArgs(1, "at least one topic name"),
		RunE: func(cmd *cobra.Command, topics []string) error {
			adm, err := cfg.NewAdmin(cmd.Context())
			if err != nil {
				return err
			}
			defer adm.Close()
			resps, err := adm.DeleteTopics(cmd.Context(), topics...)
			if err != nil {
				return fmt.Errorf("delete topics: %w", err)
			}
			return clientcmd.TopicResults(cmd.OutOrStdout(), topics, "OK", func(topic string) (string, error) {
				r, err := resps.On(topic, nil)
				if err == nil {
					err = r.Err
				}
				return r.ErrMessage, err
			})
		},
	}
}
