package storage

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"

	"github.com/sluice-io/sluice/internal/batch"
	"github.com/sluice-io/sluice/internal/model"
	"github.com/sluice-io/sluice/internal/sysio"
)

// appendInfo summarizes the batches of one append, from their headers.
type appendInfo struct {
	first   model.Offset // base offset of the first batch
	last    model.Offset // last offset of the last batch
	maxTs   int64        // largest MaxTimestamp
	records int64
}

// Append appends b, ONE already-validated v2 batch, as the leader: it
// writes the next offset and leaderEpoch into b's header in place (the CRC
// does not cover them), appends the bytes unchanged and returns the batch's
// base offset. It does no per-record work and, in the steady state, no
// allocation. The bytes are in the page cache when Append returns; call
// WaitDurable for acks=all.
func (l *Log) Append(b []byte, leaderEpoch model.LeaderEpoch) (model.Offset, error) {
	if len(b) < batch.HeaderSize || batch.Header(b).Size() != len(b) {
		return -1, fmt.Errorf("append: %w: %d bytes are not one batch", batch.ErrCorrupt, len(b))
	}
	l.mu.Lock()
	if err := l.writableLocked(); err != nil {
		l.mu.Unlock()
		return -1, err
	}
	if err := l.checkSizeLocked(len(b)); err != nil {
		l.mu.Unlock()
		return -1, err
	}
	base := l.next
	batch.SetBaseOffset(b, int64(base))
	batch.SetLeaderEpoch(b, int32(leaderEpoch))
	h := batch.Header(b)
	info := appendInfo{first: base, last: model.Offset(h.LastOffset()), maxTs: h.MaxTimestamp(), records: int64(h.RecordCount())}
	err := l.maybeAssignEpochLocked(leaderEpoch, base)
	if err == nil {
		err = l.appendLocked(b, info)
	}
	flushNow := err == nil && l.cfg.flushMessagesEnabled() && l.unflushed >= l.cfg.FlushMessages
	end := l.next
	l.mu.Unlock()
	if err != nil {
		return -1, err
	}
	if flushNow {
		// flush.messages: Kafka flushes in the append path, so the append
		// returns only once durable; the flush is shared with any waiters.
		if err := l.waitDurable(context.Background(), end); err != nil {
			return base, err
		}
	}
	return base, nil
}

// AppendAsFollower appends batches that already carry their offsets and
// leader epochs (replication). Every batch must pass its CRC check, the
// offsets must increase, and the first batch must start at or after the log
// end offset (gaps are allowed, as after compaction on the leader).
func (l *Log) AppendAsFollower(batches []byte) error {
	if len(batches) == 0 {
		return nil
	}
	info := appendInfo{first: -1, maxTs: -1}
	good, err := batch.ScanStored(batches, func(h batch.Header) error {
		if h.BaseOffset() < 0 || h.LastOffsetDelta() < 0 || (info.first >= 0 && model.Offset(h.BaseOffset()) <= info.last) {
			return ErrOffsetsOutOfOrder
		}
		if info.first < 0 {
			info.first = model.Offset(h.BaseOffset())
		}
		info.last = model.Offset(h.LastOffset())
		info.maxTs = max(info.maxTs, h.MaxTimestamp())
		info.records += int64(h.RecordCount())
		return nil
	})
	if err != nil {
		return fmt.Errorf("append as follower: %w", err)
	}
	if good != len(batches) {
		return fmt.Errorf("append as follower: %w: bad batch at byte %d", batch.ErrCorrupt, good)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.writableLocked(); err != nil {
		return err
	}
	if info.first < l.next {
		return fmt.Errorf("append as follower at %d: %w %d", info.first, ErrUnexpectedAppendOffset, l.next)
	}
	if err := l.checkSizeLocked(len(batches)); err != nil {
		return err
	}
	for rest := batches; len(rest) > 0; rest = rest[batch.Header(rest).Size():] {
		h := batch.Header(rest)
		if err := l.maybeAssignEpochLocked(model.LeaderEpoch(h.LeaderEpoch()), model.Offset(h.BaseOffset())); err != nil {
			return err
		}
	}
	return l.appendLocked(batches, info)
}

// maybeAssignEpochLocked records a new leader epoch carried by a batch;
// the next sync round makes the checkpoint durable (leader_epoch_lazy.go).
func (l *Log) maybeAssignEpochLocked(epoch model.LeaderEpoch, start model.Offset) error {
	if epoch < 0 || epoch <= l.epochs.latestEpoch() {
		return nil
	}
	before := append([]EpochEntry(nil), l.epochs.entries...)
	l.epochs.assign(epoch, start)
	if err := l.persistEpochsLazilyLocked(); err != nil {
		if errors.Is(err, ErrResourceExhausted) {
			l.epochs.entries = before // nothing was written: as before the call
			return fmt.Errorf("assign leader epoch %d: %w", epoch, err)
		}
		l.failLocked(err)
		return fmt.Errorf("%w: %w", ErrLogFailed, err)
	}
	return nil
}

// writeAt writes appended bytes. While no sync round runs on this log (nor
// a shared syncfs), nothing but memory can hold the write up, so it goes
// raw (sysio.WriteAt): an ordinary call wakes the runtime's sysmon thread
// on a lightly loaded broker, a cost larger than the write.
func (l *Log) writeAt(f *os.File, b []byte, off int64) (int, error) {
	if l.flush.syncing.Load() || l.cfg.FSSync.busy() {
		return f.WriteAt(b, off)
	}
	return sysio.WriteAt(f, b, off)
}

// failUnlessExhaustedLocked fails the log for err, an error of an
// operation that changed nothing yet, unless the process is merely out of
// descriptors or maps (ErrResourceExhausted): that fails the request at
// hand and leaves the log writable. Called under mu.
func (l *Log) failUnlessExhaustedLocked(op string, err error) error {
	if errors.Is(err, ErrResourceExhausted) {
		return fmt.Errorf("%s: %w", op, err)
	}
	l.failLocked(err)
	return fmt.Errorf("%s: %w: %w", op, ErrLogFailed, err)
}

// checkSizeLocked rejects an append larger than segment.bytes (Kafka's
// RecordBatchTooLargeException), before any state changes.
func (l *Log) checkSizeLocked(n int) error {
	if int64(n) > l.cfg.SegmentBytes {
		return fmt.Errorf("append %d bytes: %w (%d)", n, ErrRecordBatchTooLarge, l.cfg.SegmentBytes)
	}
	return nil
}

// appendLocked writes data (whole batches described by info) to the active
// segment, rolling first if needed, then indexes it and publishes it.
func (l *Log) appendLocked(data []byte, info appendInfo) error {
	if err := l.maybeRollLocked(len(data), info); err != nil {
		return err
	}
	s := l.active()
	fs, err := s.pinWritable()
	if err != nil {
		// Nothing changed: only this append fails (ErrResourceExhausted
		// when the process is out of descriptors or maps).
		return fmt.Errorf("append to segment %d: %w", s.base, err)
	}
	pos := s.size.Load()
	if _, err := l.writeAt(fs.log, data, pos); err != nil {
		// Cut any partial write so the file ends on a batch boundary.
		if terr := fs.log.Truncate(pos); terr != nil {
			err = fmt.Errorf("%w (and truncate: %v)", err, terr)
		}
		s.unpin(fs)
		l.failLocked(err)
		return fmt.Errorf("append to segment %d: %w: %w", s.base, ErrLogFailed, err)
	}
	// Size first: an index entry never points past the bytes readers see.
	s.size.Store(pos + int64(len(data)))
	s.indexRun(data, pos, l.cfg.IndexIntervalBytes)
	s.unpin(fs)
	if l.cfg.Writeback != nil {
		l.offerWritebackLocked(s, pos, pos+int64(len(data)))
	}
	l.bytes.Add(int64(len(data)))
	l.next = info.last + 1
	l.leo.Store(int64(l.next))
	l.unflushed += info.records
	if l.cfg.FSSync != nil {
		l.fsBegun = l.cfg.FSSync.Begun()
	}
	l.armFlushTimerLocked()
	l.armMarkTimerLocked()
	return nil
}

// maybeRollLocked rolls the active segment when the append would not fit
// (Kafka's LogSegment.shouldRoll): segment.bytes, segment.ms (minus jitter),
// a full index, or offsets too far from the base for a relative offset.
func (l *Log) maybeRollLocked(size int, info appendInfo) error {
	s := l.active()
	if s.size.Load() == 0 {
		if info.first-s.base > math.MaxUint32 || info.first < s.base {
			return l.rollLocked(info.first) // an empty segment far behind: replace it
		}
		return nil
	}
	if s.size.Load()+int64(size) > l.cfg.SegmentBytes ||
		s.timeWaitedForRoll(l.nowMs(), info.maxTs) > l.cfg.SegmentMs-s.rollJitterMs ||
		s.offIdx.full() || s.timeIdx.full() ||
		info.last-s.base > math.MaxUint32 {
		return l.rollLocked(info.first)
	}
	return nil
}

// MaybeRoll rolls the active segment if it holds data and is older than
// segment.ms, so idle partitions roll too (retention then can delete it).
func (l *Log) MaybeRoll(nowMs int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.writableLocked(); err != nil {
		return err
	}
	s := l.active()
	if s.size.Load() > 0 && s.timeWaitedForRoll(nowMs, nowMs) > l.cfg.SegmentMs-s.rollJitterMs {
		return l.rollLocked(l.next)
	}
	return nil
}

// rollLocked makes a new active segment at base (>= the log end offset).
// The old one gets its final index entries and is flushed in the
// background, as Kafka does, so the recovery point moves past it.
func (l *Log) rollLocked(base model.Offset) error {
	old := l.active()
	if old.size.Load() == 0 && old.base == base {
		return nil
	}
	// The new segment first: when the process is out of descriptors,
	// nothing has changed yet and only the request at hand fails.
	s, err := createSegment(l.dir, base, l.files, l.cfg, l.nowMs())
	if err != nil {
		return l.failUnlessExhaustedLocked("roll", err)
	}
	if err := old.finish(); err != nil {
		s.release()
		for _, suf := range []string{logSuffix, indexSuffix, timeIndexSuffix} {
			os.Remove(segmentName(l.dir, base, suf))
		}
		return l.failUnlessExhaustedLocked("roll", err)
	}
	segs := l.segments()
	next := make([]*segment, 0, len(segs)+1)
	if old.size.Load() == 0 {
		// An empty segment holds nothing a reader could need.
		next = append(next, segs[:len(segs)-1]...)
		l.deleteSegmentsLocked([]*segment{old})
	} else {
		next = append(next, segs...)
		l.needIndexSync = append(l.needIndexSync, old)
	}
	l.publish(append(next, s))
	l.dirDirty = true
	l.rolled(base) // producer state snapshot (snapshot_hooks.go)
	if first := l.segments()[0].base; first > model.Offset(l.lso.Load()) {
		// The replaced empty segment was the first one.
		if err := l.raiseLogStartOffsetLocked(first); err != nil {
			return err
		}
	}
	if !l.closed {
		l.flushInBackground(l.next)
	}
	return nil
}
