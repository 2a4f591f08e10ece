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
		batch.ErrCorrupt, batch.ErrInvalid, batch.ErrMagic, batch.ErrTooLarge,
		replica.ErrMessageTooLarge, replica.ErrInvalidTimestamp, replica.ErrNotLeader,
		replica.ErrInvalidProducerEpoch, replica.ErrOutOfOrderSequence, replica.ErrInvalidTxnState, replica.ErrTransactionCoordinatorFenced,
		controller.ErrProducerIDsExhausted, controller.ErrUnknownBroker,
		storage.ErrOffsetOutOfRange, storage.ErrClosed, storage.ErrLogFailed,
		storage.ErrRecordBatchTooLarge, storage.ErrUnexpectedAppendOffset, storage.ErrOffsetsOutOfOrder,
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
