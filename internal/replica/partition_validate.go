package replica

import (
	"fmt"

	"github.com/sluice-io/sluice/internal/batch"
	"github.com/sluice-io/sluice/internal/storage"
)

// prepareProduced does to a produced batch, which passed batch.Validate,
// what Kafka's LogValidator does before the append: it checks every
// record against the batch bytes and the topic's rules
// (batch.CheckRecords: structure, offset deltas, keys of a compacted
// topic, CreateTime timestamps against message.timestamp.before.max.ms
// and .after.max.ms), writes the records' largest timestamp as the
// batch's max timestamp under CreateTime, recompresses when the topic's
// compression.type asks for another codec (from the records already
// decompressed: one decompression), and stamps LogAppendTime. It returns
// the batch to append, b itself (rewritten in place) or a recompressed
// copy, and the append time for LogAppendTime topics (else -1).
func prepareProduced(b []byte, cfg *Config, nowMs int64) ([]byte, int64, error) {
	c, err := batch.CheckRecords(b, batch.DefaultMaxUncompressed, &batch.ProduceRules{
		NowMs:                nowMs,
		LogAppendTime:        cfg.LogAppendTime,
		TimestampBeforeMaxMs: cfg.TimestampBeforeMaxMs,
		TimestampAfterMaxMs:  cfg.TimestampAfterMaxMs,
		RequireKeys:          storage.RequiresKeys(cfg.Storage),
	})
	if err != nil {
		return nil, -1, err
	}
	defer c.Release()
	if !cfg.LogAppendTime {
		batch.SetCreateTime(b, c.MaxTimestamp)
	}
	if cfg.Codec >= 0 && batch.Header(b).Codec() != cfg.Codec {
		// The topic asks for another codec (Kafka recompresses too).
		// A fresh buffer: the log may keep the bytes it is given.
		if b, err = c.Recompress(b, cfg.Codec, nil); err != nil {
			return nil, -1, err
		}
		if len(b) > int(cfg.MaxMessageBytes) {
			return nil, -1, fmt.Errorf("%w: %d > %d bytes after recompression", ErrMessageTooLarge, len(b), cfg.MaxMessageBytes)
		}
	}
	if !cfg.LogAppendTime {
		return b, -1, nil
	}
	batch.SetLogAppendTime(b, nowMs)
	return b, nowMs, nil
}
