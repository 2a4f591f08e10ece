package txn

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/sluice-io/sluice/internal/cli/clientcmd"
)

// describedTxn is one transactional id of `txn describe`, and its --json
// form.
type describedTxn struct {
	TransactionalID string   `json:"transactional_id"`
	State           string   `json:"state"`
	ProducerID      int64    `json:"producer_id"`
	ProducerEpoch   int16    `json:"producer_epoch"`
	TimeoutMs       int32    `json:"timeout_ms"`
	StartTimestamp  int64    `json:"start_timestamp"` // ms; -1 without a transaction
	Partitions      []string `json:"partitions"`
	Coordinator     int32    `json:"coordinator"`
	Error           string   `json:"error,omitempty"`
}

func newDescribe(cfg *clientcmd.Config) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "describe TRANSACTIONAL_ID...",
		Short: "Describe transactional ids",
		Long: `Describe transactional ids (DescribeTransactions on their coordinators):
state, producer id and epoch, transaction timeout, when the ongoing
transaction started and its partitions.`,
		Example: `  sluice txn describe payments-1
  sluice txn describe payments-1 payments-2 --json`,
		Args: clientcmd.MinArgs(1, "one or more transactional ids"),
		RunE: func(cmd *cobra.Command, args []string) error {
			adm, err := cfg.NewAdmin(cmd.Context())
			if err != nil {
				return err
			}
			defer adm.Close()
			ds, err := adm.DescribeTransactions(cmd.Context(), args...)
			if err != nil && len(ds) == 0 {
				return fmt.Errorf("describe transactions: %w", err)
			}
			var rows []describedTxn
			for _, d := range ds.Sorted() {
				r := describedTxn{TransactionalID: d.TxnID, State: d.State, ProducerID: d.ProducerID, ProducerEpoch: d.ProducerEpoch,
					TimeoutMs: d.TimeoutMillis, StartTimestamp: d.StartTimestamp, Coordinator: d.Coordinator, Partitions: []string{}}
				for _, tp := range d.Topics.Sorted() {
					for _, p := range tp.Partitions {
						r.Partitions = append(r.Partitions, fmt.Sprintf("%s-%d", tp.Topic, p))
					}
				}
				if d.Err != nil {
					r.Error = d.Err.Error()
				}
				rows = append(rows, r)
			}
			if asJSON {
				return clientcmd.WriteJSON(cmd.OutOrStdout(), rows)
			}
			t := clientcmd.NewTable(cmd.OutOrStdout(), "TRANSACTIONAL ID", "STATE", "PRODUCER ID", "EPOCH", "TIMEOUT", "STARTED", "PARTITIONS", "ERROR")
			for _, r := range rows {
				started := "-"
				if r.StartTimestamp >= 0 && r.State != "Empty" {
					started = time.UnixMilli(r.StartTimestamp).UTC().Format(time.RFC3339)
				}
				t.Row(r.TransactionalID, r.State, r.ProducerID, r.ProducerEpoch, time.Duration(r.TimeoutMs)*time.Millisecond,
					started, len(r.Partitions), r.Error)
			}
			return t.Flush()
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print a JSON array with every field and the partitions")
	return c
}
