package storage

import (
	"errors"
	"fmt"

	"github.com/sluice-io/sluice/internal/batch"
)

// RequiresKeys reports whether appends to a log with cfg must carry a key
// on every record: compaction keeps records by key, so Kafka's
// LogValidator rejects a keyless record in a compacted topic with
// INVALID_RECORD ("Compacted topic cannot accept message without key").
// Control batches (transaction markers) are exempt.
func RequiresKeys(cfg Config) bool { return cfg.compactEnabled() }

// errNoKey ends CheckKeys' walk at the first keyless record.
var errNoKey = errors.New("compacted topic cannot accept a record without key")

// CheckKeys returns an error wrapping batch.ErrInvalid (Kafka:
// INVALID_RECORD) when a record of the single batch b has a null key. A
// control batch passes. It decompresses b when compressed, so the produce
// path calls it only when RequiresKeys holds, after batch.Validate.
//
// Safe for concurrent use.
func CheckKeys(b []byte) error {
	if batch.Header(b).IsControl() {
		return nil
	}
	var off int64
	err := batch.Records(b, func(r *batch.Record) error {
		if r.Key == nil {
			off = r.Offset
			return errNoKey
		}
		return nil
	})
	if errors.Is(err, errNoKey) {
		return fmt.Errorf("%w: %w (offset delta %d)", batch.ErrInvalid, errNoKey, off-batch.Header(b).BaseOffset())
	}
	return err
}
