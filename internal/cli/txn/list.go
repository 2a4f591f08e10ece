package txn

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sluice-io/sluice/internal/cli/clientcmd"
)

// listedTxn is one row of `txn list`, and its --json form.
type listedTxn struct {
	TransactionalID string `json:"transactional_id"`
	ProducerID      int64  `json:"producer_id"`
	State           string `json:"state"`
	Coordinator     int32  `json:"coordinator"`
}

type listOptions struct {
	states      []string
	producerIDs []int64
	pattern     string
	asJSON      bool
}

func newList(cfg *clientcmd.Config) *cobra.Command {
	o := &listOptions{}
	c := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List transactional ids",
		Long: `List every transactional id the cluster's transaction coordinators know
(ListTransactions on every broker), with its producer id and state.`,
		Example: `  sluice txn list
  sluice txn list --state Ongoing
  sluice txn list --producer-id 1000 --json`,
		Args: clientcmd.ExactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd, cfg) },
	}
	f := c.Flags()
	f.StringSliceVar(&o.states, "state", nil, "only these states (Empty, Ongoing, PrepareCommit, PrepareAbort, CompleteCommit, CompleteAbort)")
	f.Int64SliceVar(&o.producerIDs, "producer-id", nil, "only these producer ids")
	f.StringVar(&o.pattern, "pattern", "", "only transactional ids matching this regular expression (brokers with ListTransactions v2)")
	f.BoolVar(&o.asJSON, "json", false, "print a JSON array of {transactional_id, producer_id, state, coordinator}")
	return c
}

func (o *listOptions) run(cmd *cobra.Command, cfg *clientcmd.Config) error {
	adm, err := cfg.NewAdmin(cmd.Context())
	if err != nil {
		return err
	}
	defer adm.Close()
	ls, err := adm.ListTransactionsByTxPattern(cmd.Context(), o.producerIDs, o.states, o.pattern)
	if err != nil {
		return fmt.Errorf("list transactions: %w", err)
	}
	rows := make([]listedTxn, 0, len(ls))
	for _, l := range ls.Sorted() {
		rows = append(rows, listedTxn{TransactionalID: l.TxnID, ProducerID: l.ProducerID, State: l.State, Coordinator: l.Coordinator})
	}
	if o.asJSON {
		return clientcmd.WriteJSON(cmd.OutOrStdout(), rows)
	}
	t := clientcmd.NewTable(cmd.OutOrStdout(), "TRANSACTIONAL ID", "PRODUCER ID", "STATE", "COORDINATOR")
	for _, r := range rows {
		t.Row(r.TransactionalID, r.ProducerID, r.State, r.Coordinator)
	}
	return t.Flush()
}
