// Package producer holds `sluice producer ...`: describe the idempotent
// and transactional producers a partition's leader knows
// (DescribeProducers, KIP-664, through franz-go's kadm).
package producer

import (
	"github.com/spf13/cobra"

	"github.com/sluice-io/sluice/internal/cli/clientcmd"
)

// New returns the `producer` command and its verbs.
func New(cfg *clientcmd.Config) *cobra.Command {
	return clientcmd.NewGroup("producer", "Describe the producers of a topic",
		`Inspect the producers that partition leaders track for idempotence and
transactions (DescribeProducers): producer id and epoch, last sequence and
timestamp, coordinator epoch and the first offset of an open transaction.`,
		newDescribe(cfg))
}
