package producer

import (
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/sluice-io/sluice/internal/cli/clientcmd"
)

// describedProducer is one row of `producer describe`, and its --json
// form.
type describedProducer struct {
	Partition             int32  `json:"partition"`
	Leader                int32  `json:"leader"`
	ProducerID            int64  `json:"producer_id"`
	ProducerEpoch         int16  `json:"producer_epoch"`
	LastSequence          int32  `json:"last_sequence"`
	LastTimestamp         int64  `json:"last_timestamp"`
	CoordinatorEpoch      int32  `json:"coordinator_epoch"`
	CurrentTxnStartOffset int64  `json:"current_txn_start_offset"` // -1 without an open transaction
	Error                 string `json:"error,omitempty"`
}

func newDescribe(cfg *clientcmd.Config) *cobra.Command {
	var asJSON bool
	var partitions []int32
	c := &cobra.Command{
		Use:   "describe TOPIC",
		Short: "Describe the producers of a topic's partitions",
		Long: `Describe, per partition of a topic, the producers its leader tracks
(DescribeProducers): producer id, epoch, last sequence and timestamp,
coordinator epoch and the start offset of the open transaction (-1: none).
A transaction start offset that stays put points at a hanging transaction:
it holds the partition's last stable offset and read_committed consumers.`,
		Example: `  sluice producer describe orders
  sluice producer describe orders --partition 0 --json`,
		Args: clientcmd.ExactArgs(1, "one topic name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			adm, err := cfg.NewAdmin(cmd.Context())
			if err != nil {
				return err
			}
			defer adm.Close()
			set := kadm.TopicsSet{}
			set.Add(args[0], partitions...)
			ds, err := adm.DescribeProducers(cmd.Context(), set)
			if err != nil {
				return clientcmd.TopicError(args[0], err, "")
			}
			if len(ds[args[0]].Partitions) == 0 {
				return clientcmd.TopicError(args[0], kerr.UnknownTopicOrPartition, "")
			}
			var rows []describedProducer
			for _, p := range ds[args[0]].Partitions.Sorted() {
				if p.Err != nil {
					rows = append(rows, describedProducer{Partition: p.Partition, Leader: p.Leader, ProducerID: -1, Error: p.Err.Error()})
					continue
				}
				for _, d := range p.ActiveProducers.Sorted() {
					rows = append(rows, describedProducer{Partition: p.Partition, Leader: p.Leader, ProducerID: d.ProducerID,
						ProducerEpoch: d.ProducerEpoch, LastSequence: d.LastSequence, LastTimestamp: d.LastTimestamp,
						CoordinatorEpoch: d.CoordinatorEpoch, CurrentTxnStartOffset: d.CurrentTxnStartOffset})
				}
			}
			if asJSON {
				if rows == nil {
					rows = []describedProducer{}
				}
				return clientcmd.WriteJSON(cmd.OutOrStdout(), rows)
			}
			t := clientcmd.NewTable(cmd.OutOrStdout(), "PARTITION", "PRODUCER ID", "EPOCH", "LAST SEQUENCE", "LAST TIMESTAMP",
				"COORDINATOR EPOCH", "TXN START OFFSET", "ERROR")
			for _, r := range rows {
				ts := "-"
				if r.LastTimestamp > 0 {
					ts = time.UnixMilli(r.LastTimestamp).UTC().Format(time.RFC3339)
				}
				t.Row(r.Partition, r.ProducerID, r.ProducerEpoch, r.LastSequence, ts, r.CoordinatorEpoch, r.CurrentTxnStartOffset, r.Error)
			}
			return t.Flush()
		},
	}
	f := c.Flags()
	f.Int32SliceVar(&partitions, "partition", nil, "only these partitions (default every partition)")
	f.BoolVar(&asJSON, "json", false, "print a JSON array, one object per producer and partition")
	return c
}
