package batch

import "errors"

// Sentinel errors; the protocol edge maps them to Kafka error codes. Errors
// returned by this package wrap exactly one of them.
var (
	// ErrCorrupt: the bytes are not a well-formed batch (lengths, CRC,
	// a record or a compressed payload that does not parse).
	// Kafka: CORRUPT_MESSAGE.
	ErrCorrupt = errors.New("corrupt record batch")
	// ErrInvalid: a well-formed batch whose content breaks a rule
	// (record count, offsets, timestamps, unknown codec).
	// Kafka: INVALID_RECORD.
	ErrInvalid = errors.New("invalid record batch")
	// ErrMagic: a message format other than v2. Kafka:
	// UNSUPPORTED_FOR_MESSAGE_FORMAT.
	ErrMagic = errors.New("unsupported message format (only magic 2)")
	// ErrTooLarge: a compressed payload would decompress past the limit
	// the caller set (a zip bomb, or a limit set too low).
	// Kafka: RECORD_TOO_LARGE.
	ErrTooLarge = errors.New("record batch decompresses past the size limit")
)
