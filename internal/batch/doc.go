// Package batch reads, checks and builds Kafka v2 record batches
// ("magic 2") as raw bytes.
//
// The produce path never decodes records: Validate checks a batch by its
// 61-byte header and its CRC32C, and the broker then writes the base
// offset and the partition leader epoch in place (SetBaseOffset,
// SetLeaderEpoch; the CRC does not cover them) and stores the bytes as
// received. Recovery walks a log file with ScanStored, which stops at the
// first torn or corrupt batch.
//
// The few paths that must look inside a batch (LogAppendTime with
// recompression, a topic that asks for full validation, compaction, the
// CLI) use the codecs (Compress, Decompress: gzip, snappy, lz4, zstd),
// record iteration (Records, Reader) and ValidateRecords. Builder makes a
// batch from records: tests, control markers and the CLI use it.
//
// Decompression is always bounded by a caller-given size, so a small
// compressed batch cannot blow up into gigabytes (ErrTooLarge).
//
// The byte layout is written up in docs/format/record-batch.md.
//
// Functions here are pure and safe for concurrent use; each type says
// whether its values are.
package batch
