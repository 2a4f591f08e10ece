package storage

// RequiresKeys reports whether appends to a log with cfg must carry a key
// on every record: compaction keeps records by key, so Kafka's
// LogValidator rejects a keyless record in a compacted topic with
// INVALID_RECORD ("Compacted topic cannot accept message without key").
// The produce path checks it record by record (batch.CheckRecords);
// control batches (transaction markers) are exempt.
func RequiresKeys(cfg Config) bool { return cfg.compactEnabled() }
