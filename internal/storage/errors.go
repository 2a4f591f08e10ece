package storage

import (
	"errors"
	"fmt"

	"github.com/sluice-io/sluice/internal/model"
)

// Sentinel errors; the protocol edge maps them to Kafka error codes.
var (
	// ErrOffsetOutOfRange: the offset is outside [LogStartOffset,
	// LogEndOffset]. Kafka: OFFSET_OUT_OF_RANGE.
	ErrOffsetOutOfRange = errors.New("offset out of range")
	// ErrClosed: the log was closed or deleted. Kafka: NOT_LEADER_OR_FOLLOWER
	// (the replica is gone from this broker).
	ErrClosed = errors.New("log closed")
	// ErrLogFailed: an earlier write, truncate or fsync failed, so the log no
	// longer accepts writes until it is reopened (Kafka takes the log dir
	// offline). Kafka: KAFKA_STORAGE_ERROR.
	ErrLogFailed = errors.New("log failed after an I/O error")
	// ErrRecordBatchTooLarge: one append is larger than segment.bytes.
	// Kafka: RECORD_BATCH_TOO_LARGE.
	ErrRecordBatchTooLarge = errors.New("record batch larger than segment.bytes")
	// ErrUnexpectedAppendOffset: a follower append starts below the log end
	// offset. Kafka: UnexpectedAppendOffsetException (the fetcher truncates).
	ErrUnexpectedAppendOffset = errors.New("follower append below log end offset")
	// ErrOffsetsOutOfOrder: the batches of one follower append do not have
	// increasing offsets. Kafka: OffsetsOutOfOrderException.
	ErrOffsetsOutOfOrder = errors.New("batch offsets out of order")
	// ErrResourceExhausted: the process is out of file descriptors or
	// memory maps even after closing every idle file set (files_limit.go).
	// Only the request at hand fails; the log stays writable. Kafka:
	// KAFKA_STORAGE_ERROR (clients retry).
	ErrResourceExhausted = errors.New("out of file descriptors or memory maps")
	// errCorruptIndex: an index file failed its sanity check (recovery
	// rebuilds it; callers only see it from internal helpers).
	errCorruptIndex = errors.New("corrupt index")
)

// CorruptionError reports a batch header on disk that cannot be parsed where
// a batch must start (found by a read, not by recovery, which repairs).
// Kafka: KAFKA_STORAGE_ERROR.
type CorruptionError struct {
	Segment  model.Offset // base offset of the segment
	Position int64        // file position of the bad header
	Reason   string
}

func (e *CorruptionError) Error() string {
	return fmt.Sprintf("corrupt segment %d at position %d: %s", e.Segment, e.Position, e.Reason)
}
