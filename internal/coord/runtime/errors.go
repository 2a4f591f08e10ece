package runtime

import "errors"

// Sentinel errors. Coordinators map them to Kafka codes: both mean the
// client must find the coordinator again (NOT_COORDINATOR).
var (
	// ErrClosed: the shard was closed (unloaded, or the broker stops).
	ErrClosed = errors.New("coordinator shard closed")
	// ErrFailed: a write to the shard's partition failed; the shard
	// stopped and must be loaded again from its log.
	ErrFailed = errors.New("coordinator shard failed")
)
