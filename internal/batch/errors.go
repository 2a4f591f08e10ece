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
	// (record count, offsets, timestamps, unknown codec), or a produced
	// batch whose records do not parse (Kafka's LogValidator answers
	// those with InvalidRecordException). Kafka: INVALID_RECORD.
	ErrInvalid = errors.New("invalid record batch")
	// ErrInvalidTimestamp: a produced record whose timestamp the topic's
	// message.timestamp.* settings refuse, or a producer that marked its
	// batch LogAppendTime. Kafka: INVALID_TIMESTAMP.
	ErrInvalidTimestamp = errors.New("invalid record timestamp")
	// ErrDecompress: the compressed records of a produced batch do not
	// decompress. Kafka's broker fails such a batch with a bare
	// KafkaException ("Failed to decompress record stream"), which no
	// error code maps: UNKNOWN_SERVER_ERROR.
	ErrDecompress = errors.New("compressed records do not decompress")
	// ErrMagic: a message format other than v2. Kafka:
	// UNSUPPORTED_FOR_MESSAGE_FORMAT.
	ErrMagic = errors.New("unsupported message format (only magic 2)")
	// ErrTooLarge: a compressed payload would decompress past the limit
	// the caller set (a zip bomb, or a limit set too low).
	// Kafka: RECORD_TOO_LARGE.
	ErrTooLarge = errors.New("record batch decompresses past the size limit")
)
