package handler

// DescribeTransactions, version 0 (KIP-664).
//
// For each transactional id this broker coordinates: its state (Kafka's
// names: Empty, Ongoing, PrepareCommit, ...), producer id and epoch,
// transaction timeout, the start of the ongoing transaction (-1 none) and
// its partitions. An id this broker does not coordinate is
// NOT_COORDINATOR, one it does not know TRANSACTIONAL_ID_NOT_FOUND.

import "github.com/twmb/franz-go/pkg/kmsg"

func handleDescribeTransactions(b *Broker, r *Request) *Reply {
	req := r.Msg.(*kmsg.DescribeTransactionsRequest)
	return Later(func() kmsg.Response { return b.Txns.DescribeTransactions(req) })
}
