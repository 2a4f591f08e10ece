// Package txn holds `sluice txn ...`: list and describe the transactional
// ids of the cluster, one verb per file. Each verb is a Kafka admin
// request sent through franz-go's kadm (ListTransactions,
// DescribeTransactions, KIP-664), so it works against any Kafka cluster.
package txn

import (
	"github.com/spf13/cobra"

	"github.com/sluice-io/sluice/internal/cli/clientcmd"
)

// New returns the `txn` command and its verbs.
func New(cfg *clientcmd.Config) *cobra.Command {
	return clientcmd.NewGroup("txn", "List and describe transactions",
		`Inspect transactional producers with Kafka's admin requests
(ListTransactions, DescribeTransactions): their state (Empty, Ongoing,
PrepareCommit, ...), producer id and epoch, timeout and the partitions of
the ongoing transaction.`,
		newList(cfg), newDescribe(cfg))
}
