package handler

import (
	"context"
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/batch"
	"github.com/sluice-io/sluice/internal/controller"
	"github.com/sluice-io/sluice/internal/replica"
	"github.com/sluice-io/sluice/internal/storage"
)

// errorMap is the one place where domain errors become Kafka error codes
// (errors_test.go checks every sentinel of the lower layers is here).
var errorMap = []struct {
	err  error
	code *kerr.Error
}{
	{batch.ErrCorrupt, kerr.CorruptMessage},
	{batch.ErrInvalid, kerr.InvalidRecord},
	{batch.ErrMagic, kerr.UnsupportedForMessageFormat},
	{batch.ErrInvalidTimestamp, kerr.InvalidTimestamp},
	// Kafka's broker fails an undecompressable produced batch with a
	// KafkaException that no code maps (see batch.ErrDecompress).
	{batch.ErrDecompress, kerr.UnknownServerError},
	{replica.ErrMessageTooLarge, kerr.MessageTooLarge},
	{replica.ErrNotLeader, kerr.NotLeaderForPartition},
	{replica.ErrInvalidProducerEpoch, kerr.InvalidProducerEpoch},
	{replica.ErrOutOfOrderSequence, kerr.OutOfOrderSequenceNumber},
	{replica.ErrInvalidTxnState, kerr.InvalidTxnState},
	{replica.ErrTransactionCoordinatorFenced, kerr.TransactionCoordinatorFenced},
	{replica.ErrNotEnoughReplicas, kerr.NotEnoughReplicas},
	{replica.ErrNotEnoughReplicasAfterAppend, kerr.NotEnoughReplicasAfterAppend},
	{replica.ErrUnknownReplica, kerr.NotLeaderForPartition},
	{replica.ErrStaleBrokerEpoch, kerr.NotLeaderForPartition},
	{controller.ErrProducerIDsExhausted, kerr.UnknownServerError},
	{controller.ErrUnknownBroker, kerr.StaleBrokerEpoch},
	{batch.ErrTooLarge, kerr.RecordListTooLarge},
	{storage.ErrOffsetOutOfRange, kerr.OffsetOutOfRange},
	{storage.ErrClosed, kerr.NotLeaderForPartition},
	{storage.ErrRecordBatchTooLarge, kerr.RecordListTooLarge},
	{storage.ErrLogFailed, kerr.KafkaStorageError},
	{storage.ErrResourceExhausted, kerr.KafkaStorageError}, // out of descriptors or maps: this request fails, the log serves on
	{storage.ErrUnexpectedAppendOffset, kerr.UnknownServerError},
	{storage.ErrOffsetsOutOfOrder, kerr.UnknownServerError},
	{context.DeadlineExceeded, kerr.RequestTimedOut},
}

// errorCode maps err to a Kafka error code; nil is 0, and anything not in
// the map is a storage fault on this broker (KAFKA_STORAGE_ERROR), which
// clients retry elsewhere.
func errorCode(err error) int16 {
	if err == nil {
		return 0
	}
	for _, m := range errorMap {
		if errors.Is(err, m.err) {
			return m.code.Code
		}
	}
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke.Code
	}
	return kerr.KafkaStorageError.Code
}

// controllerError is the code of a failed controller operation: the
// controller's own (NOT_CONTROLLER from a voter that is not active, which
// clients retry on the active one), else REQUEST_TIMED_OUT, as Kafka
// answers when the quorum did not commit in time.
func controllerError(err error) *kerr.Error {
	if errors.Is(err, context.DeadlineExceeded) {
		// The request's time ran out looking for an active controller:
		// REQUEST_TIMED_OUT, as Kafka's forwarding answers. The last
		// voter's NOT_CONTROLLER (wrapped in err too) would have the
		// client retry the whole timeout again (franz-go does, 30 s).
		return kerr.RequestTimedOut
	}
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke
	}
	return kerr.RequestTimedOut
}

func controllerErrorCode(err error) int16 { return controllerError(err).Code }

// recordErrors lists the records that made a produced batch fail
// (ProduceResponse v8+ record_errors, KIP-467), nil when the failure is
// not about single records. Kafka fills them for the same failures
// (RecordValidationException: timestamps, keys of a compacted topic).
func recordErrors(err error) []kmsg.ProduceResponseTopicPartitionErrorRecord {
	var re *batch.RecordsError
	if !errors.As(err, &re) {
		return nil
	}
	out := make([]kmsg.ProduceResponseTopicPartitionErrorRecord, len(re.Records))
	for i, r := range re.Records {
		out[i] = kmsg.NewProduceResponseTopicPartitionErrorRecord()
		out[i].RelativeOffset, out[i].ErrorMessage = r.Index, kmsg.StringPtr(r.Message)
	}
	return out
}

// errorMessage is the text Kafka puts next to a code (v8+ produce and the
// like): our error's own words, or nil when there is no error.
func errorMessage(err error) *string {
	if err == nil {
		return nil
	}
	s := err.Error()
	return &s
}
