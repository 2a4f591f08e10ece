// Package cluster holds `sluice cluster ...`: views of the whole cluster
// (today: info), read through Kafka's Metadata request.
package cluster

import (
	"github.com/spf13/cobra"

	"github.com/sluice-io/sluice/internal/cli/clientcmd"
)

// New returns the `cluster` command and its verbs.
func New(cfg *clientcmd.Config) *cobra.Command {
	return clientcmd.NewGroup("cluster", "Show the cluster: id, controller, brokers",
		`Inspect the cluster the --brokers flag points at.`,
		newInfo(cfg))
}
