package storage

import (
	"fmt"
	"slices"

	"github.com/sluice-io/sluice/internal/batch"
	"github.com/sluice-io/sluice/internal/model"
)

// Transactions in a cleaning pass (KIP-98 with Kafka's cleaner rules,
// docs/format/compaction.md). A pass never reaches an open transaction: it
// stops below the last stable offset its caller passes. What it reads is
// decided, and the transaction indexes say which transactions aborted:
//
//   - records of an aborted transaction never enter the offset map (they
//     must not shadow an older committed value of their key), and a pass
//     drops them;
//   - a transaction marker stays while its transaction still has a data
//     batch in the log; after that the next pass stamps it with a delete
//     horizon (now + delete.retention.ms) and the first pass after the
//     horizon removes it, so a consumer that was reading the partition
//     meanwhile still sees it (Kafka 3.x+: KIP-534's horizon for markers);
//   - an ABORT marker that stays because the pass met data of its
//     transaction keeps its transaction index entry in the cleaned
//     segment's .txnindex: a read_committed fetch of batches read before
//     the swap still learns which records to drop.

// txnTracker follows the transactions of the batches a pass reads in
// offset order (Kafka's CleanedTransactionMetadata). Not safe for
// concurrent use: one pass owns it.
type txnTracker struct {
	// pending are the aborted transactions not reached yet, by first
	// offset.
	pending []AbortedTxn
	// aborted are the aborted transactions reached whose marker has not
	// been read, by producer.
	aborted map[model.ProducerID]*abortedInPass
	// committed holds the producers whose transactional batch, not
	// aborted, was read since their last marker.
	committed map[model.ProducerID]struct{}
	// kept collects the index entries of the ABORT markers kept because
	// the pass read data of their transaction (the cleaned segment's
	// .txnindex, in marker order).
	kept []AbortedTxn
}

// abortedInPass is an aborted transaction the pass is inside of.
type abortedInPass struct {
	txn  AbortedTxn
	seen bool // the pass read a batch of it
}

// reset starts tracking with the aborted transactions of the range read;
// those whose marker lies below from (all of their data too) are left out.
func (t *txnTracker) reset(aborted []AbortedTxn, from model.Offset) {
	t.pending = t.pending[:0]
	for _, e := range aborted {
		if e.LastOffset >= from {
			t.pending = append(t.pending, e)
		}
	}
	slices.SortStableFunc(t.pending, func(a, b AbortedTxn) int { return cmpOffset(a.FirstOffset, b.FirstOffset) })
	t.aborted = map[model.ProducerID]*abortedInPass{}
	t.committed = map[model.ProducerID]struct{}{}
	t.kept = t.kept[:0]
}

// reach makes the aborted transactions that began at or before off
// current. An entry whose marker lies before off is stale (its marker is
// gone) and is skipped.
func (t *txnTracker) reach(off model.Offset) {
	n := 0
	for n < len(t.pending) && t.pending[n].FirstOffset <= off {
		e := t.pending[n]
		n++
		if e.LastOffset < off {
			continue
		}
		if _, ok := t.aborted[e.ProducerID]; !ok {
			t.aborted[e.ProducerID] = &abortedInPass{txn: e}
		}
	}
	t.pending = t.pending[n:]
}

// onData notes a data batch and reports whether it belongs to an aborted
// transaction (Kafka's onBatchRead).
func (t *txnTracker) onData(h batch.Header) (aborted bool) {
	t.reach(model.Offset(h.LastOffset()))
	if !h.IsTransactional() {
		return false
	}
	pid := model.ProducerID(h.ProducerID())
	if a, ok := t.aborted[pid]; ok {
		if a.txn.LastOffset > model.Offset(h.LastOffset()) {
			a.seen = true
			return true
		}
		delete(t.aborted, pid) // stale: its marker is not in the log
	}
	t.committed[pid] = struct{}{}
	return false
}

// onMarker notes a control batch of type typ (empty: a control batch
// without records, which an earlier cleaning emptied) and reports whether
// it may be discarded: its transaction has no data batch left in what the
// pass read (Kafka's onControlBatchRead). An ABORT marker that must stay
// has its index entry collected in kept.
func (t *txnTracker) onMarker(h batch.Header, typ int16, empty bool) (discardable bool) {
	off := model.Offset(h.LastOffset())
	t.reach(off)
	if empty {
		return true
	}
	pid := model.ProducerID(h.ProducerID())
	switch typ {
	case batch.ControlAbort:
		a, ok := t.aborted[pid]
		if !ok {
			return true
		}
		delete(t.aborted, pid)
		if !a.seen {
			return true
		}
		t.kept = append(t.kept, a.txn)
		return false
	case batch.ControlCommit:
		_, ok := t.committed[pid]
		delete(t.committed, pid)
		return !ok
	}
	return false // another control type: kept
}

// controlType returns the type of the control batch b's first record, or
// empty when it has none.
func controlType(r *batch.Reader, b []byte) (typ int16, empty bool, err error) {
	found := false
	err = r.Records(b, func(rec *batch.Record) error {
		if found {
			return nil
		}
		found = true
		typ, err = batch.ControlType(rec.Key)
		return err
	})
	if err != nil {
		return 0, false, fmt.Errorf("control batch at %d: %w", batch.Header(b).BaseOffset(), err)
	}
	return typ, !found, nil
}
