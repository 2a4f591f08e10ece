package storage

import (
	"math"
	"strings"

	"github.com/sluice-io/sluice/internal/batch"
)

// Config holds the topic-level settings the log obeys, under Kafka's topic
// config names (segment.bytes, segment.ms, ...). A Config is a plain value.
type Config struct {
	SegmentBytes       int64 // segment.bytes: roll when the active segment would grow past this
	SegmentMs          int64 // segment.ms: roll when the active segment is older than this
	SegmentJitterMs    int64 // segment.jitter.ms: random [0, jitter) taken off segment.ms per segment
	IndexIntervalBytes int32 // index.interval.bytes: log bytes between two offset index entries
	SegmentIndexBytes  int32 // segment.index.bytes: preallocated size of each index file
	RetentionMs        int64 // retention.ms; -1 keeps segments forever
	RetentionBytes     int64 // retention.bytes; -1 means no size limit
	FlushMessages      int64 // flush.messages: fsync after this many unflushed records
	FlushMs            int64 // flush.ms: fsync data older than this
	FileDeleteDelayMs  int64 // file.delete.delay.ms: deleted segments stay open this long
	Preallocate        bool  // preallocate: fallocate new segments to segment.bytes
	// CleanupPolicy is cleanup.policy: "delete" (default when empty),
	// "compact", or "compact,delete". Retention by time and size only runs
	// when it contains "delete"; the log start offset rule always runs.
	CleanupPolicy string

	// Compaction (cleaner.go), used when CleanupPolicy has "compact".
	DeleteRetentionMs      int64   // delete.retention.ms: tombstones live this long after their first clean
	MinCompactionLagMs     int64   // min.compaction.lag.ms: records younger than this stay uncompacted
	MaxCompactionLagMs     int64   // max.compaction.lag.ms: dirty records older than this force a clean; <= 0 means never
	MinCleanableDirtyRatio float64 // min.cleanable.dirty.ratio: least dirty share of the log worth a clean

	// WrittenMarkMs is not a Kafka setting: how long after an append the
	// written mark is refreshed (written_mark.go); 0 means one second,
	// negative turns marks off.
	WrittenMarkMs int64

	// FSSync is not a Kafka setting: when set, a sync round of the log is
	// one shared syncfs of its data directory's file system (fs_sync.go)
	// instead of an fdatasync per file written.
	FSSync *FSSync

	// Writeback is not a Kafka setting: when set, appended data is written
	// back behind the writers a chunk at a time (writeback.go) instead of
	// being left dirty for the kernel to write back in bulk.
	Writeback *Writeback

	// Janitor is not a Kafka setting: when set, it closes the file sets
	// of the log's segments once idle (janitor.go); nil keeps them open
	// while the log is. Create and Open leave the files closed either way.
	Janitor *FileJanitor
}

// DefaultConfig returns Kafka's defaults: 1 GiB segments rolled weekly, 4 KiB
// index interval, 10 MiB indexes, 7 days retention without a size limit, no
// forced flush (Long.MAX_VALUE), one minute file delete delay.
func DefaultConfig() Config {
	return Config{
		SegmentBytes:       1 << 30,
		SegmentMs:          7 * 24 * 60 * 60 * 1000,
		SegmentJitterMs:    0,
		IndexIntervalBytes: 4096,
		SegmentIndexBytes:  10 << 20,
		RetentionMs:        7 * 24 * 60 * 60 * 1000,
		RetentionBytes:     -1,
		FlushMessages:      math.MaxInt64,
		FlushMs:            math.MaxInt64,
		FileDeleteDelayMs:  60_000,
		CleanupPolicy:      "delete",

		DeleteRetentionMs:      24 * 60 * 60 * 1000,
		MinCompactionLagMs:     0,
		MaxCompactionLagMs:     math.MaxInt64,
		MinCleanableDirtyRatio: 0.5,
	}
}

// maxFlushMs is the largest flush.ms that still fits a time.Duration; larger
// values mean "never", as Kafka's Long.MAX_VALUE default does.
const maxFlushMs = math.MaxInt64 / 1_000_000

// normalized clamps values that would break an invariant of the log. Range
// validation with Kafka's messages is internal/config's job; this only keeps
// the log safe from a caller that skipped it.
func (c Config) normalized() Config {
	// Positions in the offset index are uint32: a segment stays below 2 GiB.
	c.SegmentBytes = min(max(c.SegmentBytes, batch.HeaderSize), math.MaxInt32)
	if c.SegmentMs <= 0 {
		c.SegmentMs = math.MaxInt64
	}
	c.SegmentJitterMs = max(c.SegmentJitterMs, 0)
	c.IndexIntervalBytes = max(c.IndexIntervalBytes, 0)
	// Room for at least two time index entries (one is kept for the roll).
	c.SegmentIndexBytes = max(c.SegmentIndexBytes, 2*timeEntrySize)
	c.FileDeleteDelayMs = max(c.FileDeleteDelayMs, 0)
	// Compaction settings (cleaner.go).
	c.DeleteRetentionMs = max(c.DeleteRetentionMs, 0)
	c.MinCompactionLagMs = max(c.MinCompactionLagMs, 0)
	if c.MaxCompactionLagMs <= 0 {
		c.MaxCompactionLagMs = math.MaxInt64
	}
	c.MinCleanableDirtyRatio = min(max(c.MinCleanableDirtyRatio, 0), 1)
	if c.compactEnabled() {
		// Kafka's LogConfig.maxSegmentMs: a compacted log rolls at least
		// every max.compaction.lag.ms, so no record waits in the active
		// segment (which is never cleaned) past that lag.
		c.SegmentMs = min(c.SegmentMs, c.MaxCompactionLagMs)
	}
	return c
}

// deleteEnabled reports whether cleanup.policy includes "delete".
func (c Config) deleteEnabled() bool {
	return c.CleanupPolicy == "" || strings.Contains(c.CleanupPolicy, "delete")
}

// compactEnabled reports whether cleanup.policy includes "compact".
func (c Config) compactEnabled() bool { return strings.Contains(c.CleanupPolicy, "compact") }

// flushMessagesEnabled reports whether flush.messages forces fsyncs.
func (c Config) flushMessagesEnabled() bool {
	return c.FlushMessages > 0 && c.FlushMessages < math.MaxInt64
}

// flushMsEnabled reports whether flush.ms forces fsyncs.
func (c Config) flushMsEnabled() bool { return c.FlushMs >= 0 && c.FlushMs < maxFlushMs }
