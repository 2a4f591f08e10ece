package txn

import "github.com/twmb/franz-go/pkg/kerr"

// Kafka error codes the transaction protocol answers with. They are the
// protocol's own outcomes, so the state machine speaks them directly;
// runtime failures become NOT_COORDINATOR in one place (runtimeCode).
var (
	codeCoordinatorNotAvailable = kerr.CoordinatorNotAvailable.Code
	codeNotCoordinator          = kerr.NotCoordinator.Code
	codeLoadInProgress          = kerr.CoordinatorLoadInProgress.Code
	codeConcurrentTransactions  = kerr.ConcurrentTransactions.Code
	codeInvalidProducerIDMap    = kerr.InvalidProducerIDMapping.Code
	codeProducerFenced          = kerr.ProducerFenced.Code
	codeInvalidProducerEpoch    = kerr.InvalidProducerEpoch.Code
	codeInvalidTxnState         = kerr.InvalidTxnState.Code
	codeInvalidTxnTimeout       = kerr.InvalidTransactionTimeout.Code
	codeInvalidRequest          = kerr.InvalidRequest.Code
	codeTransactionAbortable    = kerr.TransactionAbortable.Code
	codeTxnIDNotFound           = kerr.TransactionalIDNotFound.Code
	codeUnknownTopicOrPartition = kerr.UnknownTopicOrPartition.Code
	codeOperationNotAttempted   = kerr.OperationNotAttempted.Code
	codeInvalidRegex            = kerr.InvalidRegularExpression.Code
)

// runtimeCode maps a runtime failure (the shard closed or its write
// failed) to NOT_COORDINATOR: the client finds the coordinator again.
func runtimeCode(err error) int16 {
	if err == nil {
		return 0
	}
	return codeNotCoordinator
}

// fencedCode is PRODUCER_FENCED, or INVALID_PRODUCER_EPOCH for clients
// that predate it (KIP-588: InitProducerId v4, AddPartitionsToTxn,
// AddOffsetsToTxn and EndTxn v2, TxnOffsetCommit v3).
func fencedCode(code int16, newEnough bool) int16 {
	if code == codeProducerFenced && !newEnough {
		return codeInvalidProducerEpoch
	}
	return code
}
