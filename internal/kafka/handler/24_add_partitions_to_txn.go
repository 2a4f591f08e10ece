package handler

// AddPartitionsToTxn, versions 0-5.
//
// v0-3 come from a transactional producer: the partitions join its
// ongoing transaction (which starts if none is open) on the transaction
// coordinator (internal/coord/txn), answered once durable. A partition
// that does not exist is UNKNOWN_TOPIC_OR_PARTITION and the others of the
// request OPERATION_NOT_ATTEMPTED; a wrong producer id is
// INVALID_PRODUCER_ID_MAPPING, an old epoch PRODUCER_FENCED
// (INVALID_PRODUCER_EPOCH before v2, KIP-588), a transaction still
// completing CONCURRENT_TRANSACTIONS. v3: flexible (KIP-482). v4+ batch
// several transactions and come from partition leaders (KIP-890 part 1):
// verify_only asks whether the partitions are in the ongoing transaction
// (TRANSACTION_ABORTABLE when not) without adding them. v5:
// TRANSACTION_ABORTABLE may be answered (KIP-890).

import "github.com/twmb/franz-go/pkg/kmsg"

func handleAddPartitionsToTxn(b *Broker, r *Request) *Reply {
	req := r.Msg.(*kmsg.AddPartitionsToTxnRequest)
	return Later(func() kmsg.Response { return b.Txns.AddPartitionsToTxn(req) })
}
