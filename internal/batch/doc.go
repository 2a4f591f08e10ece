// Package batch reads, checks and builds Kafka v2 record batches
// ("magic 2") as raw bytes.
//
// The produce path checks a batch in two steps and stores the bytes as
// received: Validate checks the 61-byte header and the CRC32C; then
// CheckRecords walks every record as Kafka's LogValidator does (lengths,
// varints, offset deltas, the record count, and the topic's rules for
// keys and timestamps, given as ProduceRules), in place and without
// allocating for an uncompressed batch, after one bounded decompression
// into a pooled buffer for a compressed one (Checked.Recompress reuses it
// when the topic asks for another codec). The broker then writes the base
// offset and the partition leader epoch in place (SetBaseOffset,
// SetLeaderEpoch; the CRC does not cover them), and the max timestamp
// (SetCreateTime, SetLogAppendTime; the CRC is recomputed). Records
// refused by a topic rule come back as a *RecordsError that names them
// (ProduceResponse record_errors). Recovery walks a log file with
// ScanStored, which stops at the first torn or corrupt batch.
//
// The paths that read records (compaction, timestamp lookups,
// coordinators, the CLI) use the codecs (Compress, Decompress: gzip,
// snappy, lz4, zstd) and record iteration (Records, Reader);
// ValidateRecords checks a whole batch's structure. Builder makes a batch
// from records: tests, control markers and the CLI use it.
//
// Decompression is always bounded by a caller-given size, so a small
// compressed batch cannot blow up into gigabytes (ErrTooLarge).
//
// The byte layout, and what produce checks and rewrites, are written up in
// docs/format/record-batch.md.
//
// Functions here are pure and safe for concurrent use; each type says
// whether its values are.
package batch
