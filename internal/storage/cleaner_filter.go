package storage

import (
	"encoding/binary"

	"github.com/sluice-io/sluice/internal/batch"
	"github.com/sluice-io/sluice/internal/model"
)

// Header fields the cleaner rewrites in a rebuilt batch (byte layout in
// docs/format/record-batch.md); batch.Builder has no setting for them.
const (
	hdrCRC             = 17
	hdrAttributes      = 21
	hdrLastOffsetDelta = 23
)

// batchFilter decides, batch by batch, what a pass keeps: Kafka's
// MemoryRecords.filterTo driven by the cleaner's RecordFilter. A record is
// kept when it lies past the offset map (not deduplicated this pass), or
// when it has a key, is the latest offset of that key, and is not a
// tombstone whose batch's delete horizon has passed. A record without a key
// is dropped (compacted topics reject them on produce; Kafka counts them
// as invalid), and so is every record of an aborted transaction. A batch
// keeps its offsets, producer fields and codec; when every record stays it
// is copied byte for byte. Transaction markers follow cleaner_txn.go.
//
// Not safe for concurrent use: one pass owns it.
type batchFilter struct {
	m                 *offsetMap
	nowMs             int64
	deleteRetentionMs int64
	// roundEnd is the pass's end offset: the batch ending just before it
	// is kept even when empty, so the last offset stays known (Kafka).
	roundEnd model.Offset
	// producerLast is the last offset of the batch kept for each active
	// producer: that batch is kept, even empty, for its sequence numbers.
	producerLast map[int64]model.Offset
	// txns follows the transactions of the batches read, in order.
	txns txnTracker
	// minHorizonMs is the earliest delete horizon of a kept batch that
	// holds tombstones, or of a kept marker (0: none).
	minHorizonMs int64

	reader  batch.Reader
	builder batch.Builder
	out     []byte
	stats   *CleanStats
}

// batchVerdict is what the first look at a batch found.
type batchVerdict struct {
	kept, dropped, tombstones int
}

// filter returns the bytes to write for the batch b: b itself, a rebuilt
// batch (valid until the next call), or nil to drop it.
func (f *batchFilter) filter(b []byte) ([]byte, error) {
	h := batch.Header(b)
	if h.IsControl() {
		return f.filterMarker(b, h)
	}
	if f.txns.onData(h) {
		n := int64(h.RecordCount())
		f.stats.RecordsRead += n
		f.stats.AbortedRecords += n
		return f.dropAll(b, h)
	}
	horizon, hasHorizon := int64(0), h.Attributes()&batch.DeleteHorizonBit != 0
	if hasHorizon {
		horizon = h.FirstTimestamp() // KIP-534: the base timestamp holds the horizon
	}
	keep := func(r *batch.Record) bool { return f.keep(r, hasHorizon, horizon) }
	var v batchVerdict
	err := f.reader.Records(b, func(r *batch.Record) error {
		switch {
		case keep(r):
			v.kept++
			if r.Value == nil {
				v.tombstones++
			}
		default:
			v.dropped++
			if r.Key == nil {
				f.stats.InvalidRecords++
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	f.stats.RecordsRead += int64(v.kept + v.dropped)
	f.stats.RecordsKept += int64(v.kept)
	needHorizon := v.tombstones > 0 && !hasHorizon
	switch {
	case v.dropped == 0 && !needHorizon:
		if v.tombstones > 0 {
			f.noteHorizon(horizon)
		}
		f.stats.BatchesCopied++
		return b, nil
	case v.kept == 0:
		return f.dropAll(b, h)
	}
	outHorizon := horizon // 0: none
	if needHorizon {
		outHorizon = f.nowMs + f.deleteRetentionMs
	}
	if v.tombstones > 0 {
		f.noteHorizon(outHorizon)
	}
	f.stats.BatchesRebuilt++
	return f.rebuild(b, h, outHorizon, keep)
}

// dropAll drops every record of the data batch b: the batch goes, unless
// it must stay as an empty batch (retainEmpty).
func (f *batchFilter) dropAll(b []byte, h batch.Header) ([]byte, error) {
	switch {
	case !f.retainEmpty(h):
		f.stats.BatchesDropped++
		return nil, nil
	case h.RecordCount() == 0:
		f.stats.BatchesCopied++ // emptied by an earlier pass
		return b, nil
	}
	f.stats.BatchesRebuilt++
	return f.emptyBatch(h)
}

// filterMarker decides the fate of a control batch (Kafka's
// checkBatchRetention for control batches): a marker whose transaction
// still has data in the log stays as it is; one that may go is first
// stamped with a delete horizon of now + delete.retention.ms, and a later
// pass removes it once the horizon has passed. A marker that is the last
// batch of an active producer, or ends the pass, stays whole where Kafka
// would keep only its header: replaying producer state reads a marker's
// type from its record.
func (f *batchFilter) filterMarker(b []byte, h batch.Header) ([]byte, error) {
	typ, empty, err := controlType(&f.reader, b)
	if err != nil {
		return nil, err
	}
	n := int64(h.RecordCount())
	f.stats.RecordsRead += n
	discardable := f.txns.onMarker(h, typ, empty)
	hasHorizon := h.Attributes()&batch.DeleteHorizonBit != 0
	horizon := h.FirstTimestamp()
	switch {
	case !discardable:
	case empty || (hasHorizon && f.nowMs >= horizon):
		if !f.retainEmpty(h) {
			f.stats.BatchesDropped++
			f.stats.MarkersDropped++
			return nil, nil
		}
	case hasHorizon:
		f.noteHorizon(horizon)
	default:
		horizon = f.nowMs + f.deleteRetentionMs
		f.noteHorizon(horizon)
		f.stats.RecordsKept += n
		f.stats.BatchesRebuilt++
		return f.rebuild(b, h, horizon, func(*batch.Record) bool { return true })
	}
	f.stats.RecordsKept += n
	f.stats.BatchesCopied++
	return b, nil
}

// keep is Kafka's Cleaner.shouldRetainRecord for a v2 batch.
func (f *batchFilter) keep(r *batch.Record, hasHorizon bool, horizon int64) bool {
	off := model.Offset(r.Offset)
	if off > f.m.latest {
		return true
	}
	if r.Key == nil || off < f.m.get(r.Key) {
		return false
	}
	return r.Value != nil || !hasHorizon || f.nowMs < horizon
}

// rebuild re-encodes the records of b that keep (judged as the first look
// did) with b's codec and header fields, the original last offset (so the
// producer's last sequence stays known, as Kafka's overrideLastOffset)
// and, when outHorizon is set, the delete horizon as base timestamp with
// the horizon bit.
func (f *batchFilter) rebuild(b []byte, h batch.Header, outHorizon int64, keep func(*batch.Record) bool) ([]byte, error) {
	info := batchInfoOf(h)
	info.BaseTimestamp = outHorizon
	f.builder.Reset(info)
	err := f.reader.Records(b, func(r *batch.Record) error {
		if keep(r) {
			return f.builder.AddAt(r)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out, err := f.builder.Build(f.out[:0])
	if err != nil {
		return nil, err
	}
	f.out = out
	patchHeader(out, h.LastOffsetDelta(), outHorizon != 0)
	return out, nil
}

// emptyBatch keeps b's header fields with no records (Kafka's
// writeEmptyHeader): uncompressed, the original last offset and largest
// timestamp.
func (f *batchFilter) emptyBatch(h batch.Header) ([]byte, error) {
	info := batchInfoOf(h)
	info.Codec = batch.CodecNone
	info.BaseTimestamp = h.MaxTimestamp()
	f.builder.Reset(info)
	out, err := f.builder.Build(f.out[:0])
	if err != nil {
		return nil, err
	}
	f.out = out
	patchHeader(out, h.LastOffsetDelta(), false)
	return out, nil
}

// retainEmpty is Kafka's BatchRetention.RETAIN_EMPTY: the batch kept for
// an active producer, and the batch that ends the pass.
func (f *batchFilter) retainEmpty(h batch.Header) bool {
	if pid := h.ProducerID(); pid >= 0 {
		if last, ok := f.producerLast[pid]; ok && last == model.Offset(h.LastOffset()) {
			return true
		}
	}
	return model.Offset(h.NextOffset()) == f.roundEnd
}

// noteHorizon records the delete horizon of a kept batch with tombstones
// or of a kept marker. One already passed is not noted: its tombstones lie
// past the offset map (or the marker must stay for its producer), and the
// next pass with a dirty section removes them anyway.
func (f *batchFilter) noteHorizon(ms int64) {
	if ms > f.nowMs && (f.minHorizonMs == 0 || ms < f.minHorizonMs) {
		f.minHorizonMs = ms
	}
}

// batchInfoOf returns the header fields of h for a Builder.
func batchInfoOf(h batch.Header) batch.BatchInfo {
	info := batch.BatchInfo{
		BaseOffset:           h.BaseOffset(),
		PartitionLeaderEpoch: h.LeaderEpoch(),
		Codec:                h.Codec(),
		Transactional:        h.IsTransactional(),
		Control:              h.IsControl(),
		ProducerID:           h.ProducerID(),
		ProducerEpoch:        h.ProducerEpoch(),
		BaseSequence:         h.BaseSequence(),
	}
	if h.LogAppendTime() {
		info.LogAppendTime = h.MaxTimestamp()
	}
	return info
}

// patchHeader sets the last offset delta and the delete horizon bit of a
// built batch and recomputes its CRC.
func patchHeader(b []byte, lastOffsetDelta int32, horizon bool) {
	be := binary.BigEndian
	be.PutUint32(b[hdrLastOffsetDelta:], uint32(lastOffsetDelta))
	if horizon {
		be.PutUint16(b[hdrAttributes:], be.Uint16(b[hdrAttributes:])|batch.DeleteHorizonBit)
	}
	be.PutUint32(b[hdrCRC:], batch.ComputeCRC(b))
}
