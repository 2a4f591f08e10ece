package handler

// AddOffsetsToTxn, versions 0-4.
//
// The group's __consumer_offsets partition joins the producer's
// transaction on the transaction coordinator (internal/coord/txn), so its
// TxnOffsetCommit records are committed or aborted with it. Errors as
// AddPartitionsToTxn: INVALID_PRODUCER_ID_MAPPING, PRODUCER_FENCED
// (INVALID_PRODUCER_EPOCH before v2, KIP-588), CONCURRENT_TRANSACTIONS.
// v3: flexible; v4: TRANSACTION_ABORTABLE may be answered (KIP-890).

import "github.com/twmb/franz-go/pkg/kmsg"

func handleAddOffsetsToTxn(b *Broker, r *Request) *Reply {
	req := r.Msg.(*kmsg.AddOffsetsToTxnRequest)
	return Later(func() kmsg.Response { return b.Txns.AddOffsetsToTxn(r.Ctx, req) })
}
