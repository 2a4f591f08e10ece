package handler

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/sluice-io/sluice/internal/batch"
	"github.com/sluice-io/sluice/internal/model"
	"github.com/sluice-io/sluice/internal/replica"
)

// KIP-890 on the partition side. Part 1: before a transactional batch
// opens its producer's transaction on a partition, the leader asks the
// transaction coordinator whether the partition is in the producer's
// ongoing transaction (AddPartitionsToTxn verify_only), so a late or
// stray batch cannot open a transaction nobody will end (a hanging
// transaction holding the last stable offset). Part 2 (transactions v2,
// produce v12+): the producer no longer adds partitions itself; the
// leader adds them. transaction.partition.verification.enable turns part
// 1 off.
//
// TODO(#4): the coordinator is called in-process, so this works when this
// broker coordinates the transactional id (every single-node setup);
// elsewhere the call must become an AddPartitionsToTxn v4+ request to the
// coordinator.

// appendBatch appends one produced batch, verifying it first when it is
// transactional. The partition's watchers are not woken: the caller wakes
// every partition of the request once all are appended
// (replica.AppendHeld).
func (b *Broker) appendBatch(part *replica.Partition, txnID *string, version int16, records []byte, acksAll bool, nowMs int64) (model.Offset, int64, error) {
	h := batch.Header(records)
	tv2 := version >= 12
	if !h.IsTransactional() || h.ProducerID() < 0 || txnID == nil || *txnID == "" || b.Txns == nil ||
		(!tv2 && !b.Txns.VerifyPartitions()) {
		return part.AppendHeld(records, nowMs, replica.AppendOptions{AcksAll: acksAll})
	}
	pid, epoch := model.ProducerID(h.ProducerID()), model.ProducerEpoch(h.ProducerEpoch())
	guard, verify, err := part.BeginTxnVerification(pid, epoch)
	if err != nil {
		return 0, -1, err
	}
	if verify {
		code := b.Txns.AddPartitions(*txnID, pid, epoch, []model.TopicPartition{part.TP}, !tv2)[0]
		if code != 0 {
			part.EndTxnVerification(pid, guard)
			return 0, -1, produceVerifyError(code, part.TP)
		}
	}
	return part.AppendHeld(records, nowMs, replica.AppendOptions{Guard: guard, AcksAll: acksAll})
}

// produceVerifyError is what a produce answers for a failed verification,
// in codes every producer knows (Kafka's mapping): a partition outside
// the transaction is INVALID_TXN_STATE, a fenced producer
// INVALID_PRODUCER_EPOCH, a coordinator that cannot answer now
// NOT_ENOUGH_REPLICAS (retriable).
func produceVerifyError(code int16, tp model.TopicPartition) error {
	e := kerr.ErrorForCode(code)
	switch e {
	case kerr.TransactionAbortable:
		e = kerr.InvalidTxnState
	case kerr.ProducerFenced:
		e = kerr.InvalidProducerEpoch
	case kerr.ConcurrentTransactions, kerr.NotCoordinator, kerr.CoordinatorNotAvailable, kerr.CoordinatorLoadInProgress:
		e = kerr.NotEnoughReplicas
	}
	return fmt.Errorf("transactional batch for %s not verified: %w", tp, e)
}

// verifyTxnOffsets checks (TxnOffsetCommit v0-4, part 1) or adds (v5+,
// part 2) the group's __consumer_offsets partition in the producer's
// transaction; 0 when the commit may go ahead.
func (b *Broker) verifyTxnOffsets(r *Request, txnID string, group string, pid model.ProducerID, epoch model.ProducerEpoch, version int16) int16 {
	tv2 := version >= 5
	if b.Txns == nil || (!tv2 && !b.Txns.VerifyPartitions()) {
		return 0
	}
	tp, code := b.Txns.OffsetsPartition(r.Ctx, group)
	if code == 0 {
		code = b.Txns.AddPartitions(txnID, pid, epoch, []model.TopicPartition{tp}, !tv2)[0]
	}
	switch kerr.ErrorForCode(code) {
	case nil:
		return 0
	case kerr.TransactionAbortable:
		return kerr.InvalidTxnState.Code
	case kerr.ConcurrentTransactions, kerr.NotCoordinator, kerr.CoordinatorNotAvailable, kerr.CoordinatorLoadInProgress:
		return kerr.CoordinatorLoadInProgress.Code // retriable, without a group coordinator lookup
	case kerr.ProducerFenced:
		if version < 3 {
			return kerr.InvalidProducerEpoch.Code
		}
	}
	return code
}
