package handler

// InitProducerId, versions 0-5.
//
// Without a transactional id (an idempotent producer, KIP-98) the answer
// is always a new producer id with epoch 0, as Kafka's
// TransactionCoordinator does ("blindly accept"): a producer that passes
// its current id and epoch (v3+, KIP-360) after an error gets a fresh id
// too; non-transactional producers bump their epoch on their own. Ids
// come from the broker's block of ids (internal/producerid, KIP-730), so
// the handler waits for the quorum only when a new block must be fetched.
// A producer id given without an epoch, or the reverse, is
// INVALID_REQUEST; an empty transactional id is INVALID_REQUEST.
// v1: throttle applied after the response (KIP-219); v2: flexible
// (KIP-482); v3: producer id and epoch in the request (KIP-360);
// v4: PRODUCER_FENCED replaces INVALID_PRODUCER_EPOCH (KIP-588);
// v5: TRANSACTION_ABORTABLE (KIP-890). The versions only differ for
// transactional ids.
//
// With a transactional id the transaction coordinator answers
// (internal/coord/txn): a new id gets a producer id at epoch 0, a known
// one an epoch bump that fences its older producers; an ongoing
// transaction of the old epoch is aborted first (CONCURRENT_TRANSACTIONS
// only when that abort is slow); transaction_timeout_ms above
// transaction.max.timeout.ms is INVALID_TRANSACTION_TIMEOUT; an exhausted
// epoch moves to a new producer id; KIP-360 recovery with the producer's
// id and epoch. NOT_COORDINATOR when another broker coordinates the id.

import (
	"context"
	"errors"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/controller"
)

// initProducerIDTimeout bounds a wait for a new block of producer ids.
const initProducerIDTimeout = 30 * time.Second

func handleInitProducerID(b *Broker, r *Request) *Reply {
	req := r.Msg.(*kmsg.InitProducerIDRequest)
	resp := req.ResponseKind().(*kmsg.InitProducerIDResponse)
	resp.ProducerID, resp.ProducerEpoch = -1, -1
	switch {
	case (req.ProducerID == -1) != (req.ProducerEpoch == -1):
		resp.ErrorCode = kerr.InvalidRequest.Code
		return Now(resp)
	case req.TransactionalID != nil && *req.TransactionalID == "":
		resp.ErrorCode = kerr.InvalidRequest.Code
		return Now(resp)
	case req.TransactionalID != nil:
		return Later(func() kmsg.Response { return b.Txns.InitProducerID(r.Ctx, req) })
	}
	return Later(func() kmsg.Response {
		ctx, cancel := context.WithTimeout(r.Ctx, initProducerIDTimeout)
		defer cancel()
		id, err := b.producerIDs().Next(ctx)
		switch {
		case err == nil:
			resp.ProducerID, resp.ProducerEpoch = int64(id), 0
		case errors.Is(err, controller.ErrProducerIDsExhausted):
			resp.ErrorCode = errorCode(err)
		default:
			// Kafka's RPCProducerIdManager: no block yet, retry later.
			resp.ErrorCode = kerr.CoordinatorLoadInProgress.Code
			b.Log.Warn("init producer id", "err", err)
		}
		return resp
	})
}
