package handler

// ListTransactions, versions 0-2 (KIP-664).
//
// Lists the transactional ids this broker coordinates with their producer
// id and state, filtered by states (names this broker does not know are
// echoed in unknown_state_filters), producer ids, v1 a minimum running
// time (duration_filter_ms, KIP-994: now - transaction start, as Kafka
// computes it) and v2 a transactional id regular expression (KIP-1152;
// INVALID_REGULAR_EXPRESSION when it does not compile).
// COORDINATOR_LOAD_IN_PROGRESS while a __transaction_state partition
// loads.

import "github.com/twmb/franz-go/pkg/kmsg"

func handleListTransactions(b *Broker, r *Request) *Reply {
	req := r.Msg.(*kmsg.ListTransactionsRequest)
	return Later(func() kmsg.Response { return b.Txns.ListTransactions(req) })
}
