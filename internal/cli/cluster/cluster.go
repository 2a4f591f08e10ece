// Package cluster holds `sluice cluster ...`: views of the whole cluster
// (info, through Kafka's Metadata request; quorum, through
// DescribeQuorum; leaders elect, through ElectLeaders).
package cluster

import (
	"github.com/spf13/cobra"

	"github.com/sluice-io/sluice/internal/cli/clientcmd"
)

// New returns the `cluster` command and its verbs.
func New(cfg *clientcmd.Config) *cobra.Command {
	return clientcmd.NewGroup("cluster", "Show the cluster (id, controller, brokers, metadata quorum) and elect leaders",
		`Inspect the cluster the --brokers flag points at.`,
		newInfo(cfg), newQuorum(cfg), newLeaders(cfg))
}
