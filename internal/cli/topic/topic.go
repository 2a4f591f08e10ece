// Package topic holds `sluice topic ...`: create, list, describe, delete,
// alter-config and add-partitions, one verb per file. Each verb is a Kafka
// admin request sent through franz-go's kadm, so it works against any Kafka
// cluster.
package topic

import (
	"github.com/spf13/cobra"

	"github.com/sluice-io/sluice/internal/cli/clientcmd"
)

// New returns the `topic` command and its verbs.
func New(cfg *clientcmd.Config) *cobra.Command {
	return clientcmd.NewGroup("topic", "Create, list, describe, change and delete topics",
		`Manage topics with Kafka's admin requests (CreateTopics, Metadata,
DescribeConfigs, IncrementalAlterConfigs, CreatePartitions, DeleteTopics).`,
		newCreate(cfg), newList(cfg), newDescribe(cfg), newDelete(cfg),
		newAlterConfig(cfg), newAddPartitions(cfg))
}
