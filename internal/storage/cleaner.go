package storage

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/sluice-io/sluice/internal/batch"
	"github.com/sluice-io/sluice/internal/model"
)

// Log compaction (cleanup.policy=compact), Kafka's LogCleaner. A pass:
//
//  1. under mu, picks the cleanable range (cleaner_range.go) and pins its
//     segments; the active segment is never cleaned;
//  2. without the lock, maps every key of the dirty section to its latest
//     offset, leaving out aborted transactions (cleaner_offset_map.go,
//     cleaner_txn.go);
//  3. without the lock, rewrites the segments from the log start to the
//     end of the map, in groups that stay under segment.bytes, into
//     <base>.log.cleaned files, keeping per key only the latest record,
//     dropping aborted transactions' records and, once safe, their
//     markers (cleaner_filter.go, cleaner_segment.go, cleaner_txn.go);
//  4. under mu, swaps each cleaned group in with Kafka's crash-safe
//     protocol (cleaner_swap.go; Open completes or rolls back a swap that
//     a crash interrupted, cleaner_recovery.go);
//  5. under mu, moves the cleaner checkpoint to the end of the map.
//
// Appends and reads go on meanwhile: readers pin the segments they read,
// and replaced segments stay open for file.delete.delay.ms. docs/format/
// compaction.md has the files and the protocol.

// CleanStats reports one cleaning pass (Kafka's CleanerStats).
type CleanStats struct {
	Cleaned          bool         // a pass ran to its end and moved the checkpoint
	Aborted          bool         // the log changed under the pass; it swapped nothing more
	FirstDirtyOffset model.Offset // start of the dirty section mapped
	EndOffset        model.Offset // offsets below were cleaned: the new cleaner checkpoint
	MapKeys          int          // distinct keys in the offset map
	SegmentsRead     int          // segments rewritten
	SegmentsWritten  int          // cleaned segments swapped in
	BytesRead        int64        // bytes of the rewritten segments
	BytesWritten     int64        // bytes of the cleaned segments
	RecordsRead      int64
	RecordsKept      int64
	InvalidRecords   int64 // records without a key, dropped
	AbortedRecords   int64 // records of aborted transactions, dropped
	MarkersDropped   int64 // transaction markers removed past their delete horizon
	BatchesCopied    int64 // batches kept byte for byte
	BatchesRebuilt   int64 // batches re-encoded without some records
	BatchesDropped   int64
	Elapsed          time.Duration
}

// cleanStep names a point of the swap where a test simulates a crash.
type cleanStep int

const (
	stepCleaned           cleanStep = iota // <base>.log.cleaned and indexes written and synced
	stepSwapped                            // renamed *.swap: the swap is committed
	stepOldDeleted                         // the replaced segments renamed *.deleted
	stepTxnIndexInstalled                  // the .txnindex.swap took its final name
)

var (
	// errMapFull stops the offset map scan when the map is at its budget.
	errMapFull = errors.New("offset map full")
	// errMapTooSmall: one batch holds more keys than the map's budget.
	errMapTooSmall = errors.New("offset map too small for one batch of the dirty section")
)

// producerIDExpirationMs is Kafka's producer.id.expiration.ms default: a
// producer whose last batch is older is no longer active, so its last
// batch need not be kept. TODO(#4): take the producers from the producer
// state once the log keeps one.
const producerIDExpirationMs = 24 * 60 * 60 * 1000

// Clean runs one compaction pass if the log's cleanup.policy has "compact"
// and the log is worth cleaning: its cleanable ratio is above
// min.cleanable.dirty.ratio, dirty data is older than max.compaction.lag.ms,
// or the delete horizon of kept tombstones or markers has passed.
// Otherwise it does nothing and returns zero stats. It cleans up to the
// log end offset, so it is only for logs without open transactions; a
// replica calls CleanUpTo with its last stable offset.
func (l *Log) Clean(nowMs int64) (CleanStats, error) {
	return l.CleanUpTo(nowMs, model.Offset(l.leo.Load()))
}

// CleanUpTo is Clean limited to the segments that end at or below upTo (the
// last stable offset, which is at most the high watermark, as Kafka's
// cleaner never cleans past it). upTo must not pass an ABORT marker whose
// transaction index entry is not written yet: the pass learns which
// transactions aborted from the indexes. The heavy work runs without the log's
// lock; appends are held only while a cleaned segment is swapped in. At
// most one pass runs per log at a time; Close waits for a running pass,
// which stops early. An error leaves the log consistent.
func (l *Log) CleanUpTo(nowMs int64, upTo model.Offset) (CleanStats, error) {
	return l.clean(nowMs, upTo, DefaultDedupeBufferBytes)
}

// cleanPass is the state of one pass. Not safe for concurrent use.
type cleanPass struct {
	l      *Log
	cfg    Config
	nowMs  int64
	gen    uint64 // truncation generation when the pass began
	r      cleanRange
	pinned []*segment
	m      *offsetMap
	end    model.Offset // offsets below were mapped: segments below are cleaned
	// aborted are the aborted transactions overlapping the cleanable
	// range; txns follows them while the map is built.
	aborted []AbortedTxn
	txns    txnTracker
	scan    batchScanner
	filter  batchFilter
	stats   CleanStats
	unseen  int64 // bytes read since the last abort check
}

func (l *Log) clean(nowMs int64, upTo model.Offset, budget int64) (CleanStats, error) {
	start := time.Now()
	p := l.beginClean(nowMs, upTo)
	if p == nil {
		return CleanStats{}, nil
	}
	defer l.endClean(p)
	err := p.run(budget)
	if errors.Is(err, errSegmentGone) {
		// Retention or truncation deleted a segment of the pass, and its
		// deletion delay passed: the log moved on.
		p.stats.Aborted, err = true, nil
	}
	p.stats.Elapsed = time.Since(start)
	return p.stats, err
}

// beginClean decides whether the log is worth a pass and, if so, pins the
// cleanable segments and marks the pass running.
func (l *Log) beginClean(nowMs int64, upTo model.Offset) *cleanPass {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.cfg.compactEnabled() || l.writableLocked() != nil || l.cleaner.running {
		return nil
	}
	r := l.cleanableLocked(nowMs, upTo)
	due := l.cleaner.horizonMs > 0 && nowMs >= l.cleaner.horizonMs && r.cleanBytes > 0
	dirty := r.dirtyBytes > 0 && (r.needNow || r.ratio() > l.cfg.MinCleanableDirtyRatio)
	if r.uncleanIdx == 0 || !(dirty || due) {
		return nil
	}
	p := &cleanPass{l: l, cfg: l.cfg, nowMs: nowMs, r: r}
	for _, s := range r.segs[:r.uncleanIdx] {
		if !s.acquire() {
			p.unpin()
			return nil
		}
		p.pinned = append(p.pinned, s)
	}
	_, p.gen = l.flush.snapshot()
	l.cleaner.running = true
	l.bg.Add(1) // Close waits for the pass
	return p
}

// endClean unpins the segments and ends the pass.
func (l *Log) endClean(p *cleanPass) {
	p.unpin()
	l.mu.Lock()
	l.cleaner.running = false
	l.mu.Unlock()
	l.bg.Done()
}

func (p *cleanPass) unpin() {
	for _, s := range p.pinned {
		s.release()
	}
	p.pinned = nil
}

// run maps the dirty section, cleans and swaps each group, then moves the
// checkpoint.
func (p *cleanPass) run(budget int64) error {
	p.stats.FirstDirtyOffset = p.r.firstDirty
	segs := p.r.segs[:p.r.uncleanIdx]
	var err error
	p.aborted, err = collectAbortedTxns(p.r.segs, segs[0].base, p.r.firstUncleanable)
	if err != nil {
		return fmt.Errorf("clean %s: %w", p.l.dir, err)
	}
	p.m = newOffsetMap(budget)
	p.m.latest = p.r.firstDirty - 1
	p.txns.reset(p.aborted, p.r.firstDirty)
	full, err := p.buildOffsetMap()
	if err != nil {
		return err
	}
	p.end = p.m.latest + 1
	if full && p.end <= p.r.firstDirty {
		// Kafka asserts the same: no progress is possible.
		return fmt.Errorf("clean %s: %w", p.l.dir, errMapTooSmall)
	}
	p.stats.MapKeys = p.m.size
	k := 0
	for k < len(segs) && segs[k].base < p.end {
		k++
	}
	if k == 0 {
		return nil
	}
	last, err := p.activeProducers(segs[:k])
	if err != nil {
		return err
	}
	f := &p.filter
	f.m, f.nowMs, f.deleteRetentionMs = p.m, p.nowMs, p.cfg.DeleteRetentionMs
	f.roundEnd, f.producerLast, f.stats = p.end, last, &p.stats
	f.txns.reset(p.aborted, segs[0].base)
	for _, g := range groupBySize(p.r.segs, k, p.cfg) {
		done, err := p.cleanAndSwap(g)
		if err != nil || !done {
			p.stats.Aborted = !done
			return err
		}
	}
	return p.l.finishClean(p)
}

// buildOffsetMap maps the keys of the dirty section to their latest
// offsets (Kafka's buildOffsetMap). When the map fills up, latest stays
// at the last batch mapped whole and the pass cleans only that far.
func (p *cleanPass) buildOffsetMap() (full bool, err error) {
	segs := p.r.segs
	for i := p.r.dirtyIdx; i < p.r.uncleanIdx; i++ {
		if full, err := p.mapSegment(segs[i], i == p.r.dirtyIdx); err != nil || full {
			return full, err
		}
		// Offsets between the last batch and the next segment hold no key.
		p.m.updateLatest(segs[i+1].base - 1)
	}
	return false, nil
}

// mapSegment puts the keys of s into the map, from the first dirty offset
// when fromDirty; full reports that the map reached its budget.
func (p *cleanPass) mapSegment(s *segment, fromDirty bool) (full bool, err error) {
	fs, err := s.pin()
	if err != nil {
		return false, err
	}
	defer s.unpin(fs)
	var pos int64
	if fromDirty {
		_, pos = s.offIdx.lookup(p.r.firstDirty)
	}
	p.scan.reset(s, fs, pos, s.size.Load())
	for {
		b, _, err := p.scan.next()
		if err == io.EOF {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if err := p.checkDone(len(b)); err != nil {
			return false, err
		}
		h := batch.Header(b)
		skip, err := p.mapTxnState(b, h)
		if err != nil {
			return false, err
		}
		if model.Offset(h.LastOffset()) < p.r.firstDirty {
			continue
		}
		if !skip {
			err := p.filter.reader.Records(b, func(r *batch.Record) error {
				if r.Key != nil && model.Offset(r.Offset) >= p.r.firstDirty && !p.m.put(r.Key, model.Offset(r.Offset)) {
					return errMapFull
				}
				return nil
			})
			if errors.Is(err, errMapFull) {
				return true, nil
			}
			if err != nil {
				return false, err
			}
		}
		p.m.updateLatest(model.Offset(h.LastOffset()))
	}
}

// mapTxnState follows the transactions while the map is built and
// reports whether b's records stay out of the map: a control batch, or a
// batch of an aborted transaction (Kafka maps neither).
func (p *cleanPass) mapTxnState(b []byte, h batch.Header) (skip bool, err error) {
	if !h.IsControl() {
		return p.txns.onData(h), nil
	}
	typ, empty, err := controlType(&p.filter.reader, b)
	if err != nil {
		return true, err
	}
	p.txns.onMarker(h, typ, empty)
	return true, nil
}

// checkDone stops the pass when the log closed or failed; it looks once
// per I/O buffer of bytes read.
func (p *cleanPass) checkDone(n int) error {
	if p.unseen += int64(n); p.unseen < cleanerIOBufferBytes {
		return nil
	}
	p.unseen = 0
	p.l.mu.Lock()
	defer p.l.mu.Unlock()
	return p.l.writableLocked()
}

// finishClean moves the cleaner checkpoint to the end of the pass, unless
// a truncation came meanwhile.
func (l *Log) finishClean(p *cleanPass) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.writableLocked(); err != nil {
		return err
	}
	if _, gen := l.flush.snapshot(); gen != p.gen {
		p.stats.Aborted = true
		return nil
	}
	if p.end > l.cleaner.offset {
		if err := l.setCleanerOffsetLocked(p.end); err != nil {
			return err
		}
	}
	l.cleaner.horizonMs = p.filter.minHorizonMs
	p.stats.EndOffset = p.end
	p.stats.Cleaned = true
	return nil
}
