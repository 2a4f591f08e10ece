package handler

// EndTxn, versions 0-5.
//
// Commits or aborts the producer's ongoing transaction: the transaction
// coordinator (internal/coord/txn) writes PrepareCommit or PrepareAbort,
// which decides the outcome, then the COMMIT or ABORT markers to every
// partition of the transaction and CompleteCommit or CompleteAbort. The
// answer waits for the markers (bounded), so the next transaction does not
// meet CONCURRENT_TRANSACTIONS. A retry after the transaction completed
// with the same outcome succeeds; the other outcome, or no transaction,
// is INVALID_TXN_STATE. v2: PRODUCER_FENCED replaces
// INVALID_PRODUCER_EPOCH (KIP-588); v3: flexible; v4:
// TRANSACTION_ABORTABLE (KIP-890); v5: transactions v2 (KIP-890 part 2):
// every EndTxn bumps the producer epoch (the markers carry the new one),
// the answer carries the producer id and epoch for the next transaction,
// an abort needs no open transaction. Clients send v5 only when the broker
// advertises the transaction.version feature at 2.

import "github.com/twmb/franz-go/pkg/kmsg"

func handleEndTxn(b *Broker, r *Request) *Reply {
	req := r.Msg.(*kmsg.EndTxnRequest)
	return Later(func() kmsg.Response { return b.Txns.EndTxn(r.Ctx, req) })
}
