// Package group holds `sluice group ...`: list, describe, delete and seek
// consumer groups, one verb per file. Each verb is a Kafka admin request
// sent through franz-go's kadm (ListGroups, DescribeGroups, OffsetFetch,
// ListOffsets, DeleteGroups, OffsetCommit), so it works against any Kafka
// cluster, like kafka-consumer-groups.sh.
package group

import (
	"github.com/spf13/cobra"

	"github.com/sluice-io/sluice/internal/cli/clientcmd"
)

// New returns the `group` command and its verbs.
func New(cfg *clientcmd.Config) *cobra.Command {
	return clientcmd.NewGroup("group", "List, describe, delete consumer groups and move their offsets",
		`Manage consumer groups with Kafka's admin requests, like
kafka-consumer-groups.sh: list them, describe their members, committed
offsets and lag, delete them, and move (seek) their committed offsets.`,
		newList(cfg), newDescribe(cfg), newDelete(cfg), newSeek(cfg))
}
