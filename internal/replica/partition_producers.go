package replica

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/sluice-io/sluice/internal/batch"
	"github.com/sluice-io/sluice/internal/model"
	"github.com/sluice-io/sluice/internal/storage"
)

// The partition side of the idempotent producer: producer_state.go holds
// the rules; this file runs them atomically with the append, snapshots the
// state when a segment rolls and when the log closes (Kafka's
// <offset>.snapshot files, docs/format/producer-snapshot.md), rebuilds it
// from the latest snapshot plus the batch headers after it, and expires
// idle producers.
//
// Everything here runs under the partition's append lock (appendMu).

// DefaultProducerIDExpirationMs is producer.id.expiration.ms's default:
// one day (KIP-854).
const DefaultProducerIDExpirationMs = 86_400_000

// producers is a partition's producer state.
type producers struct {
	// rolled is raised by the log when a segment rolls (under the log's
	// lock, where the state cannot be read): the next holder of appendMu
	// writes the snapshot.
	rolled atomic.Bool

	state *producerState // guarded by appendMu; nil until loaded (a failed load is retried on next use)
}

// ProducerInfo describes one active producer (DescribeProducers).
type ProducerInfo struct {
	ID                    model.ProducerID
	Epoch                 model.ProducerEpoch
	LastSequence          int32 // -1 when no batch is retained
	LastTimestamp         int64
	CoordinatorEpoch      int32
	CurrentTxnStartOffset model.Offset // -1 without an open transaction
}

// initProducers installs the snapshot hooks and loads the state. Called
// by New, before the partition is shared.
func (p *Partition) initProducers() {
	p.log.SetSnapshotHooks(storage.SnapshotHooks{
		Rolled:  func(model.Offset) { p.prod.rolled.Store(true) },
		Closing: p.snapshotProducers,
	})
	p.appendMu.Lock()
	defer p.unlockAppend()
	nowMs := time.Now().UnixMilli()
	p.producersLocked(nowMs) // an error is retried on first use
	p.publishLocked(nowMs)
}

// expirationMs is producer.id.expiration.ms for this partition.
func (p *Partition) expirationMs() int64 {
	if ms := p.cfg.Load().ProducerIDExpirationMs; ms > 0 {
		return ms
	}
	return DefaultProducerIDExpirationMs
}

// producersLocked returns the state, loading it first if needed: the
// latest snapshot at or below the log end, then every batch header after
// it (Kafka's loadProducerState). Called under appendMu; a load publishes
// the read view, as the open transactions are known from then on.
func (p *Partition) producersLocked(nowMs int64) (*producerState, error) {
	if p.prod.state != nil {
		return p.prod.state, nil
	}
	st := newProducerState()
	off, entries, found, err := p.log.LoadProducerSnapshot()
	if err != nil {
		return nil, fmt.Errorf("load producer state of %s: %w", p.TP, err)
	}
	from := model.Offset(0)
	if found {
		st.restore(entries, nowMs, p.expirationMs())
		from = off
	}
	err = p.log.ScanBatchHeaders(from, func(h batch.Header) error {
		if h.IsControl() && h.ProducerID() >= 0 {
			return p.replayMarker(st, h) // partition_txn.go
		}
		replayBatch(st, h)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load producer state of %s: %w", p.TP, err)
	}
	p.prod.state = st
	p.noteOpenLocked(st)
	p.publishLocked(nowMs)
	return st, nil
}

// replayBatch applies one batch read back from the log, unchecked.
func replayBatch(st *producerState, h batch.Header) {
	pid := model.ProducerID(h.ProducerID())
	if pid < 0 {
		return
	}
	if h.IsControl() {
		st.endTxn(pid, model.ProducerEpoch(h.ProducerEpoch()), h.MaxTimestamp())
		return
	}
	st.update(batchProducerInfo(h), model.Offset(h.BaseOffset()), model.Offset(h.LastOffset()), h.MaxTimestamp())
}

// batchProducerInfo reads the producer fields of a batch header.
func batchProducerInfo(h batch.Header) producerBatchInfo {
	return producerBatchInfo{
		pid:           model.ProducerID(h.ProducerID()),
		epoch:         model.ProducerEpoch(h.ProducerEpoch()),
		firstSeq:      h.BaseSequence(),
		lastSeq:       lastSequence(h.BaseSequence(), h.LastOffsetDelta()),
		transactional: h.IsTransactional(),
	}
}

// appendIdempotent checks b (from a producer with an id) against the
// producer state and appends it, as one step: a duplicate of one of the
// producer's last 5 batches returns the original base offset and
// timestamp without appending (Kafka answers a duplicate with the stored
// batch's offsets and its timestamp as log_append_time).
func (p *Partition) appendIdempotent(b []byte, appendTime, nowMs int64, opts AppendOptions) (model.Offset, int64, error) {
	h := batch.Header(b)
	info := batchProducerInfo(h)
	p.appendMu.Lock()
	defer p.unlockHeld()
	if err := p.checkLeaderLocked(opts.AcksAll); err != nil {
		return 0, -1, err
	}
	st, err := p.producersLocked(nowMs)
	if err != nil {
		return 0, -1, err
	}
	dup, isDup, err := st.check(info)
	if err != nil {
		return 0, -1, err
	}
	if isDup {
		return dup.firstOffset, dup.timestamp, nil
	}
	if err := p.checkTxnGuardLocked(st, info, opts.Guard); err != nil { // KIP-890 (partition_txn.go)
		return 0, -1, err
	}
	base, err := p.log.Append(b, p.LeaderEpoch())
	if base >= 0 {
		// Also after a failed flush.messages fsync: the batch is in the log.
		st.update(info, base, base+model.Offset(h.LastOffsetDelta()), h.MaxTimestamp())
		p.noteOpenLocked(st)
		p.publishLocked(nowMs)
	}
	p.snapshotIfRolledLocked()
	if err != nil {
		return 0, -1, err
	}
	return base, appendTime, nil
}

// snapshotIfRolledLocked writes a snapshot if a segment rolled since the
// last one. Called under appendMu.
func (p *Partition) snapshotIfRolledLocked() {
	if p.prod.rolled.Swap(false) {
		p.writeSnapshotLocked()
	}
}

// writeSnapshotLocked stores the loaded state as of the log end offset:
// under appendMu every batch below it has been applied. A failed
// write is not an error for anyone: the next load replays further back.
func (p *Partition) writeSnapshotLocked() {
	if p.prod.state == nil {
		return // nothing loaded: the files on disk are still the truth
	}
	p.log.WriteProducerSnapshot(p.log.LogEndOffset(), p.prod.state.snapshot())
}

// snapshotProducers writes a snapshot now (the log's Closing hook, so a
// restart replays nothing).
func (p *Partition) snapshotProducers() {
	p.appendMu.Lock()
	defer p.unlockAppend()
	p.prod.rolled.Store(false)
	p.writeSnapshotLocked()
}

// SnapshotIfRolled writes the producer snapshot a roll asked for (a roll
// by segment.ms, made by the maintenance loop rather than an append).
func (p *Partition) SnapshotIfRolled() {
	if !p.prod.rolled.Load() {
		return
	}
	p.appendMu.Lock()
	p.snapshotIfRolledLocked()
	p.unlockAppend()
}

// ExpireProducers drops the producers idle longer than
// producer.id.expiration.ms (KIP-854; Kafka checks every
// producer.id.expiration.check.interval.ms) and writes a snapshot a roll
// asked for. It returns how many producers went. The node's maintenance
// loop calls it.
func (p *Partition) ExpireProducers(nowMs int64) (int, error) {
	p.appendMu.Lock()
	defer p.unlockAppend()
	st, err := p.producersLocked(nowMs)
	if err != nil {
		return 0, err
	}
	n := st.expire(nowMs, p.expirationMs())
	p.snapshotIfRolledLocked()
	return n, nil
}

// ActiveProducers lists the producers the partition knows, by id
// (DescribeProducers).
func (p *Partition) ActiveProducers(nowMs int64) ([]ProducerInfo, error) {
	p.appendMu.Lock()
	defer p.unlockAppend()
	st, err := p.producersLocked(nowMs)
	if err != nil {
		return nil, err
	}
	entries := st.snapshot()
	out := make([]ProducerInfo, len(entries))
	for i, e := range entries {
		out[i] = ProducerInfo{ID: e.ProducerID, Epoch: e.Epoch, LastSequence: -1, LastTimestamp: e.LastTimestamp,
			CoordinatorEpoch: e.CoordinatorEpoch, CurrentTxnStartOffset: e.CurrentTxnFirstOffset}
		if n := len(e.Batches); n > 0 {
			out[i].LastSequence = e.Batches[n-1].LastSeq
		}
	}
	return out, nil
}
