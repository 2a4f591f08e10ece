package replica

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/sluice-io/sluice/internal/batch"
	"github.com/sluice-io/sluice/internal/model"
	"github.com/sluice-io/sluice/internal/storage"
)

// Transactions on the partition side (KIP-98). A transactional batch opens
// its producer's transaction on the partition (producer_state.go records
// its first offset); the coordinator's COMMIT or ABORT marker, a control
// batch written with the producer's id and epoch, ends it. The last stable
// offset (LSO) is the first offset of the oldest transaction still open,
// or the high watermark: read_committed consumers read below it. An
// aborted transaction goes into the transaction index of the segment
// holding its marker (storage.AbortedTxn), from which read_committed
// fetches learn which records to drop.
//
// KIP-890 part 1: before a transactional batch opens a transaction here,
// the produce path has the coordinator confirm that the partition is part
// of the producer's ongoing transaction (BeginTxnVerification). The guard
// it hands out is voided by a marker for that producer, so a batch that
// raced with the end of its transaction cannot open a new one that no
// coordinator knows about (a "hanging" transaction that would hold the
// LSO forever).
//
// Everything here runs under the append lock, like the rest of the
// producer state. The order of a marker's effects is what keeps aborted
// records from read_committed readers: the marker is appended, an aborted
// transaction's index entry is written, and only then is the read view
// published with the LSO past the transaction.

// TxnGuard ties a transactional append to its verification; 0 is none.
type TxnGuard uint64

// txnState is a partition's transaction bookkeeping beside its producer
// state.
type txnState struct {
	// firstUnstable is the first offset of the oldest open transaction,
	// -1 without one.
	firstUnstable model.Offset
	// ceiling holds the LSO at or below the first offset of an aborted
	// transaction whose index entry could not be written, -1 without
	// one: read_committed readers would get its records. The next load
	// of the log (a restart) writes the entry again.
	ceiling model.Offset

	guards    map[model.ProducerID]TxnGuard
	nextGuard TxnGuard
}

// TxnMarker is one transaction marker a coordinator writes. A plain value.
type TxnMarker struct {
	ProducerID       model.ProducerID
	ProducerEpoch    model.ProducerEpoch
	CoordinatorEpoch int32
	Commit           bool
}

// LastStableOffset is the offset below which every transaction is
// decided: the first offset of the oldest open transaction, or the high
// watermark when none is open.
// Invariant: LastStableOffset <= HighWatermark.
func (p *Partition) LastStableOffset() model.Offset {
	_, lso := p.ReadView()
	return lso
}

// ReadCommitted is Read for a read_committed consumer: bounded by the last
// stable offset, which it returns too.
func (p *Partition) ReadCommitted(from model.Offset, maxBytes int32, minOneBatch bool) (storage.Chunk, model.Offset, error) {
	lso := p.LastStableOffset()
	c, err := p.log.ReadUpTo(from, lso, maxBytes, minOneBatch)
	return c, lso, err
}

// AbortedTxns lists the aborted transactions that overlap what a
// read_committed read from `from`, bounded by lso, returns.
func (p *Partition) AbortedTxns(from, lso model.Offset) ([]storage.AbortedTxn, error) {
	return p.log.AbortedTxns(from, lso)
}

// noteOpenLocked recomputes the first offset of the oldest open
// transaction after the open set may have changed; publishLocked makes it
// visible. Called under appendMu.
func (p *Partition) noteOpenLocked(st *producerState) {
	f := model.Offset(-1)
	for _, off := range st.open {
		if f < 0 || off < f {
			f = off
		}
	}
	p.txn.firstUnstable = f
}

// publishLocked publishes the read view for the log as it is now: every
// batch in the log has had its effects applied (the caller holds
// appendMu across the append and the state update), and the high
// watermark is recomputed from the replicas' progress (leadership.go).
// Without a loaded producer state the open transactions are unknown, so
// the LSO stays where it was. Called under appendMu.
func (p *Partition) publishLocked(nowMs int64) {
	hw := p.computeHWLocked(nowMs)
	moved := hw != p.lead.hw
	p.lead.hw = hw
	lso := hw
	if p.prod.state == nil {
		if _, err := p.producersLocked(nowMs); err != nil {
			_, lso = p.view.load()
		}
		if p.prod.state != nil {
			// The load published this HW (seeing it unmoved).
			if moved {
				p.wakeOwed = true
				p.wakeCommitWaiters()
			}
			return
		}
	} else if f := p.txn.firstUnstable; f >= 0 {
		lso = min(lso, f)
	}
	if c := p.txn.ceiling; c >= 0 {
		lso = min(lso, c)
	}
	if oldHW, oldLSO := p.view.load(); moved || oldHW != hw || oldLSO != lso {
		p.wakeOwed = true
	}
	p.view.store(hw, lso)
	if moved {
		p.wakeCommitWaiters() // after the view is stored: see commitWaitChan
	}
}

// AppendTxnMarker writes a COMMIT or ABORT marker for m's producer and
// ends its transaction on the partition (WriteTxnMarkers). A marker of an
// older producer epoch is ErrInvalidProducerEpoch, one from an older
// coordinator epoch ErrTransactionCoordinatorFenced. A marker for a
// producer without an open transaction (a coordinator resending after a
// failover) is written all the same, as Kafka does, and changes nothing.
// It returns the marker's offset.
func (p *Partition) AppendTxnMarker(m TxnMarker, nowMs int64) (model.Offset, error) {
	info := batch.NewBatchInfo(batch.CodecNone)
	info.Control, info.Transactional = true, true
	info.ProducerID, info.ProducerEpoch = int64(m.ProducerID), int16(m.ProducerEpoch)
	bl := batch.NewBuilder(info)
	if err := bl.Add(batch.EndTxnMarker(m.Commit, m.CoordinatorEpoch, nowMs)); err != nil {
		return -1, err
	}
	b, err := bl.Build(nil)
	if err != nil {
		return -1, err
	}
	return p.appendMarker(b, m, nowMs)
}

func (p *Partition) appendMarker(b []byte, m TxnMarker, nowMs int64) (model.Offset, error) {
	off, err := p.appendMarkerLocked(b, m, nowMs)
	if off >= 0 {
		p.wake()
	}
	return off, err
}

func (p *Partition) appendMarkerLocked(b []byte, m TxnMarker, nowMs int64) (model.Offset, error) {
	p.appendMu.Lock()
	// appendMarker wakes the watchers.
	defer p.unlockHeld()
	if err := p.checkLeaderLocked(true); err != nil { // markers are written with acks=all
		return -1, err
	}
	st, err := p.producersLocked(nowMs)
	if err != nil {
		return -1, err
	}
	if e := st.producers[m.ProducerID]; e != nil {
		if m.ProducerEpoch < e.epoch {
			return -1, fmt.Errorf("%w: marker of producer %d at epoch %d, current epoch %d",
				ErrInvalidProducerEpoch, m.ProducerID, m.ProducerEpoch, e.epoch)
		}
		if m.CoordinatorEpoch < e.coordinatorEpoch {
			return -1, fmt.Errorf("%w: marker of producer %d from coordinator epoch %d, current %d",
				ErrTransactionCoordinatorFenced, m.ProducerID, m.CoordinatorEpoch, e.coordinatorEpoch)
		}
	}
	off, err := p.log.Append(b, p.LeaderEpoch())
	if off < 0 {
		return -1, err
	}
	ierr := p.completeTxnLocked(st, m, off, batch.Header(b).MaxTimestamp())
	p.publishLocked(nowMs)
	p.snapshotIfRolledLocked()
	if err == nil {
		err = ierr
	}
	return off, err
}

// completeTxnLocked applies a marker at off to the state: the transaction
// ends, an aborted one is indexed. The caller publishes the read view
// afterwards, so no reader sees the LSO pass an aborted transaction
// before its index entry exists. Called under appendMu, on append and on
// replay.
func (p *Partition) completeTxnLocked(st *producerState, m TxnMarker, off model.Offset, ts int64) error {
	first, open := st.open[m.ProducerID]
	st.endTxn(m.ProducerID, m.ProducerEpoch, ts)
	if m.CoordinatorEpoch >= 0 {
		st.producers[m.ProducerID].coordinatorEpoch = m.CoordinatorEpoch
	}
	delete(p.txn.guards, m.ProducerID)
	p.noteOpenLocked(st)
	if !open || m.Commit {
		return nil
	}
	// Kafka's lastStableOffset(completedTxn): the oldest other open
	// transaction, or the offset after the marker.
	lso := off + 1
	for _, o := range st.open {
		lso = min(lso, o)
	}
	e := storage.AbortedTxn{ProducerID: m.ProducerID, FirstOffset: first, LastOffset: off, LastStableOffset: lso}
	if err := p.log.AppendAbortedTxn(e); err != nil {
		if p.txn.ceiling < 0 || first < p.txn.ceiling {
			p.txn.ceiling = first
		}
		return fmt.Errorf("index aborted transaction of producer %d: %w", m.ProducerID, err)
	}
	return nil
}

// replayMarker applies a marker found while rebuilding the producer state
// from the log. Its record is read for the type and coordinator epoch (a
// header does not say commit or abort), and an aborted transaction's index
// entry is written again in case a crash lost it.
func (p *Partition) replayMarker(st *producerState, h batch.Header) error {
	off := model.Offset(h.BaseOffset())
	m, err := p.readMarker(off)
	if err != nil {
		return fmt.Errorf("read transaction marker at %d: %w", off, err)
	}
	return p.completeTxnLocked(st, m, off, h.MaxTimestamp())
}

// readMarker reads the control batch at off.
func (p *Partition) readMarker(off model.Offset) (TxnMarker, error) {
	c, err := p.log.Read(off, 0, true)
	if err != nil {
		return TxnMarker{}, err
	}
	if c.Size < batch.HeaderSize || c.Size > 1<<16 {
		return TxnMarker{}, fmt.Errorf("%w: control batch of %d bytes", batch.ErrCorrupt, c.Size)
	}
	b := make([]byte, c.Size)
	if _, err := c.ReadAt(b, 0); err != nil {
		return TxnMarker{}, err
	}
	return parseMarker(b[:batch.Header(b).Size()])
}

// parseMarker reads a control batch's marker: producer, type, coordinator
// epoch.
func parseMarker(b []byte) (TxnMarker, error) {
	h := batch.Header(b)
	m := TxnMarker{ProducerID: model.ProducerID(h.ProducerID()), ProducerEpoch: model.ProducerEpoch(h.ProducerEpoch()), CoordinatorEpoch: -1}
	found := false
	err := batch.Records(b, func(r *batch.Record) error {
		typ, err := batch.ControlType(r.Key)
		if err != nil {
			return err
		}
		if typ != batch.ControlCommit && typ != batch.ControlAbort {
			return fmt.Errorf("%w: control record type %d is not a transaction marker", batch.ErrInvalid, typ)
		}
		m.Commit, found = typ == batch.ControlCommit, true
		if len(r.Value) >= 6 {
			m.CoordinatorEpoch = int32(binary.BigEndian.Uint32(r.Value[2:]))
		}
		return nil
	})
	if err == nil && !found {
		err = fmt.Errorf("%w: empty control batch", batch.ErrInvalid)
	}
	return m, err
}

// BeginTxnVerification starts the KIP-890 check of a transactional batch
// of pid at epoch: verify reports that the producer has no transaction
// open here at that epoch (so the coordinator must first confirm the
// partition is in its ongoing transaction). A transaction open at another
// epoch needs the check too (Kafka's hasOngoingTransaction): under
// transactions v2 every transaction has an epoch of its own, and the
// first batch of the next one may reach a partition before the marker of
// the previous one (its EndTxn answered without waiting for every
// marker); unchecked it would join the previous transaction and share its
// outcome, while the coordinator answers CONCURRENT_TRANSACTIONS until
// that marker is written. The guard goes to AppendHeld; a marker for pid
// in between voids it. Verifications of pid under way at once share one
// guard.
func (p *Partition) BeginTxnVerification(pid model.ProducerID, epoch model.ProducerEpoch) (guard TxnGuard, verify bool, err error) {
	p.appendMu.Lock()
	defer p.unlockAppend()
	st, err := p.producersLocked(time.Now().UnixMilli())
	if err != nil {
		return 0, false, err
	}
	_, open := st.open[pid]
	open = open && st.producers[pid].epoch == epoch
	if g, ok := p.txn.guards[pid]; ok {
		// Another request of the producer is being verified: they share
		// the guard (Kafka's maybeCreateVerificationStateEntry), or the
		// later one would void the earlier.
		return g, !open, nil
	}
	if p.txn.guards == nil {
		p.txn.guards = map[model.ProducerID]TxnGuard{}
	}
	p.txn.nextGuard++
	p.txn.guards[pid] = p.txn.nextGuard
	return p.txn.nextGuard, !open, nil
}

// EndTxnVerification drops pid's guard when its batch is not appended
// after all (the coordinator refused it).
func (p *Partition) EndTxnVerification(pid model.ProducerID, guard TxnGuard) {
	p.appendMu.Lock()
	defer p.unlockAppend()
	if p.txn.guards[pid] == guard {
		delete(p.txn.guards, pid)
	}
}

// checkTxnGuardLocked refuses a verified transactional batch whose guard
// a marker voided. Called under appendMu.
func (p *Partition) checkTxnGuardLocked(_ *producerState, info producerBatchInfo, guard TxnGuard) error {
	if guard == 0 || !info.transactional {
		return nil
	}
	if p.txn.guards[info.pid] != guard {
		return fmt.Errorf("%w: the transaction of producer %d ended while its batch was verified", ErrInvalidTxnState, info.pid)
	}
	return nil
}

// ReadUpTo is Read bounded by upTo as well as the high watermark (a
// read_committed fetch passes the last stable offset it answers with).
func (p *Partition) ReadUpTo(from, upTo model.Offset, maxBytes int32, minOneBatch bool) (storage.Chunk, error) {
	return p.log.ReadUpTo(from, min(upTo, p.HighWatermark()), maxBytes, minOneBatch)
}

// ReadLog returns whole batches from the one holding from, below upTo:
// a bound the caller took from ReadView (a consumer's fetch) or
// LogEndOffset (a follower's fetch, which reads past the high
// watermark).
func (p *Partition) ReadLog(from, upTo model.Offset, maxBytes int32, minOneBatch bool) (storage.Chunk, error) {
	return p.log.ReadUpTo(from, upTo, maxBytes, minOneBatch)
}
