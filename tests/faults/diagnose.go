package faults

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Diagnose describes what holds a partition's last stable offset back
// when the final read_committed read stalls: the producers each partition
// leader knows with their open transactions (DescribeProducers), and the
// coordinators' view of every transaction that is not complete
// (ListTransactions, DescribeTransactions).
func Diagnose(ctx context.Context, bootstrap []string, topic string) string {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap...))
	if err != nil {
		return err.Error()
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	var b strings.Builder
	md, err := adm.Metadata(ctx, topic)
	if err != nil {
		return err.Error()
	}
	set := kadm.TopicsSet{}
	for _, p := range md.Topics[topic].Partitions {
		fmt.Fprintf(&b, "partition %d: leader %d epoch %d ISR %v\n", p.Partition, p.Leader, p.LeaderEpoch, p.ISR)
		set.Add(topic, p.Partition)
	}
	if ends, err := adm.ListEndOffsets(ctx, topic); err == nil {
		ends.Each(func(o kadm.ListedOffset) { fmt.Fprintf(&b, "partition %d high watermark %d\n", o.Partition, o.Offset) })
	}
	if lsos, err := adm.ListCommittedOffsets(ctx, topic); err == nil {
		lsos.Each(func(o kadm.ListedOffset) {
			fmt.Fprintf(&b, "partition %d last stable offset %d\n", o.Partition, o.Offset)
		})
	}
	if ps, err := adm.DescribeProducers(ctx, set); err != nil {
		fmt.Fprintf(&b, "DescribeProducers: %v\n", err)
	} else {
		ps.EachProducer(func(p kadm.DescribedProducer) {
			if p.CurrentTxnStartOffset >= 0 {
				fmt.Fprintf(&b, "partition %d: producer %d epoch %d open transaction from %d (coordinator epoch %d, last sequence %d)\n",
					p.Partition, p.ProducerID, p.ProducerEpoch, p.CurrentTxnStartOffset, p.CoordinatorEpoch, p.LastSequence)
			}
		})
	}
	lt, err := adm.ListTransactions(ctx, nil, nil)
	if err != nil {
		fmt.Fprintf(&b, "ListTransactions: %v\n", err)
		return b.String()
	}
	dt, err := adm.DescribeTransactions(ctx, lt.TransactionalIDs()...)
	if err != nil {
		fmt.Fprintf(&b, "DescribeTransactions: %v\n", err)
		return b.String()
	}
	dt.Each(func(d kadm.DescribedTransaction) {
		fmt.Fprintf(&b, "transaction %s: coordinator %d state %s producer %d epoch %d timeout %d ms started %d partitions %v err %v\n",
			d.TxnID, d.Coordinator, d.State, d.ProducerID, d.ProducerEpoch, d.TimeoutMillis, d.StartTimestamp, d.Topics, d.Err)
	})
	return b.String()
}
