package handler

import (
	"fmt"
	"testing"

	"github.com/sluice-io/sluice/internal/batch"
	"github.com/sluice-io/sluice/internal/controller"
	"github.com/sluice-io/sluice/internal/replica"
	"github.com/sluice-io/sluice/internal/storage"
)

// TestEverySentinelMapped: each sentinel error of the layers below has its
// own row in errorMap, so none falls through to KAFKA_STORAGE_ERROR by
// accident, and wrapping keeps the mapping.
func TestEverySentinelMapped(t *testing.T) {
	sentinels := []error{
		batch.ErrCorrupt, batch.ErrInvalid, batch.ErrMagic, batch.ErrTooLarge, batch.ErrInvalidTimestamp, batch.ErrDecompress,
		replica.ErrMessageTooLarge, replica.ErrNotLeader,
		replica.ErrInvalidProducerEpoch, replica.ErrOutOfOrderSequence, replica.ErrInvalidTxnState, replica.ErrTransactionCoordinatorFenced,
		replica.ErrNotEnoughReplicas, replica.ErrNotEnoughReplicasAfterAppend, replica.ErrUnknownReplica, replica.ErrStaleBrokerEpoch,
		controller.ErrProducerIDsExhausted, controller.ErrUnknownBroker,
		storage.ErrOffsetOutOfRange, storage.ErrClosed, storage.ErrLogFailed,
		storage.ErrRecordBatchTooLarge, storage.ErrUnexpectedAppendOffset, storage.ErrOffsetsOutOfOrder, storage.ErrResourceExhausted,
	}
	for _, s := range sentinels {
		found := false
		for _, m := range errorMap {
			if m.err == s {
				found = true
				if got := errorCode(fmt.Errorf("context: %w", s)); got != m.code.Code {
					t.Errorf("%v wrapped maps to %d, want %d", s, got, m.code.Code)
				}
			}
		}
		if !found {
			t.Errorf("sentinel %q has no row in errorMap", s)
		}
	}
	if errorCode(nil) != 0 {
		t.Error("nil error must map to 0")
	}
}

// TestRecordErrors: refused records become record_errors (KIP-467) with
// the code of the sentinel they wrap; other errors carry none.
func TestRecordErrors(t *testing.T) {
	re := &batch.RecordsError{Err: batch.ErrInvalidTimestamp, Refused: 2,
		Records: []batch.RecordError{{Index: 1, Message: "old"}, {Index: 4, Message: "new"}}}
	err := fmt.Errorf("append: %w", re)
	got := recordErrors(err)
	if len(got) != 2 || got[0].RelativeOffset != 1 || *got[0].ErrorMessage != "old" || got[1].RelativeOffset != 4 {
		t.Fatalf("recordErrors = %+v", got)
	}
	if code := errorCode(err); code != 32 {
		t.Fatalf("errorCode = %d, want INVALID_TIMESTAMP (32)", code)
	}
	if recordErrors(fmt.Errorf("x: %w", batch.ErrInvalid)) != nil || recordErrors(nil) != nil {
		t.Fatal("record_errors for an error that names no record")
	}
}
