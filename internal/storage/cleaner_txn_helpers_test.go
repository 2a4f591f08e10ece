package storage

import (
	"bytes"
	"slices"
	"testing"

	"github.com/sluice-io/sluice/internal/batch"
	"github.com/sluice-io/sluice/internal/model"
)

// txnWriter appends plain batches, transactional batches and transaction
// markers as the replica does, indexing each aborted transaction after its
// ABORT marker (replica/partition_txn.go). Not safe for concurrent use.
type txnWriter struct {
	t    testing.TB
	l    *Log
	ts   int64                             // timestamp of the next batch
	open map[model.ProducerID]model.Offset // first offset of each open transaction
	seq  map[int64]int32
}

func newTxnWriter(t testing.TB, l *Log, ts int64) *txnWriter {
	return &txnWriter{t: t, l: l, ts: ts, open: map[model.ProducerID]model.Offset{}, seq: map[int64]int32{}}
}

func (w *txnWriter) append(info batch.BatchInfo, recs []kv) model.Offset {
	w.t.Helper()
	base, err := w.l.Append(buildKV(w.t, info, w.ts, recs), 0)
	if err != nil {
		w.t.Fatalf("Append: %v", err)
	}
	return base
}

// plain appends one non-transactional batch.
func (w *txnWriter) plain(recs ...kv) model.Offset {
	w.t.Helper()
	return w.append(batch.NewBatchInfo(batch.CodecNone), recs)
}

// txn appends one batch of pid's transaction, opening it if needed.
func (w *txnWriter) txn(pid int64, recs ...kv) model.Offset {
	w.t.Helper()
	info := batch.NewBatchInfo(batch.CodecLZ4)
	info.Transactional, info.ProducerID, info.ProducerEpoch, info.BaseSequence = true, pid, 0, w.seq[pid]
	w.seq[pid] += int32(len(recs))
	base := w.append(info, recs)
	if _, ok := w.open[model.ProducerID(pid)]; !ok {
		w.open[model.ProducerID(pid)] = base
	}
	return base
}

// end appends pid's COMMIT or ABORT marker and, for an abort, its
// transaction index entry.
func (w *txnWriter) end(pid int64, commit bool) model.Offset {
	w.t.Helper()
	info := batch.NewBatchInfo(batch.CodecNone)
	info.Control, info.Transactional, info.ProducerID, info.ProducerEpoch = true, true, pid, 0
	bld := batch.NewBuilder(info)
	if err := bld.Add(batch.EndTxnMarker(commit, 5, w.ts)); err != nil {
		w.t.Fatal(err)
	}
	b, err := bld.Build(nil)
	if err != nil {
		w.t.Fatal(err)
	}
	off, err := w.l.Append(b, 0)
	if err != nil {
		w.t.Fatal(err)
	}
	first, open := w.open[model.ProducerID(pid)]
	delete(w.open, model.ProducerID(pid))
	if open && !commit {
		e := AbortedTxn{ProducerID: model.ProducerID(pid), FirstOffset: first, LastOffset: off, LastStableOffset: min(w.lso(), off+1)}
		if err := w.l.AppendAbortedTxn(e); err != nil {
			w.t.Fatal(err)
		}
	}
	return off
}

// lso is the last stable offset: the first offset of the oldest open
// transaction, or the log end.
func (w *txnWriter) lso() model.Offset {
	lso := w.l.LogEndOffset()
	for _, f := range w.open {
		lso = min(lso, f)
	}
	return lso
}

// consume reads l from its start up to upTo as a consumer does, and returns
// the data records it gets. readCommitted drops the records of aborted
// transactions as a KIP-98 client does, from the aborted transactions each
// fetch returns (Log.AbortedTxns).
func consume(t testing.TB, l *Log, upTo model.Offset, readCommitted bool) []rec {
	t.Helper()
	var out []rec
	for next := l.LogStartOffset(); next < upTo; {
		c, err := l.ReadUpTo(next, upTo, 1<<20, true)
		if err != nil {
			t.Fatalf("ReadUpTo(%d): %v", next, err)
		}
		if c.Empty() {
			break
		}
		var aborted []AbortedTxn
		if readCommitted {
			if aborted, err = l.AbortedTxns(next, upTo); err != nil {
				t.Fatal(err)
			}
		}
		out = appendConsumed(t, out, chunkBytes(t, c), aborted)
		hs := splitBatches(t, chunkBytes(t, c))
		next = model.Offset(hs[len(hs)-1].NextOffset())
	}
	return out
}

// appendConsumed appends the data records of the batches in data that a
// consumer keeps, given the aborted transactions its fetch returned (the
// Java client's CompletedFetch logic).
func appendConsumed(t testing.TB, out []rec, data []byte, aborted []AbortedTxn) []rec {
	t.Helper()
	aborted = slices.Clone(aborted)
	slices.SortFunc(aborted, func(a, b AbortedTxn) int { return cmpOffset(a.FirstOffset, b.FirstOffset) })
	skipping := map[int64]bool{}
	for _, h := range splitBatches(t, data) {
		b := h[:h.Size()]
		for len(aborted) > 0 && aborted[0].FirstOffset <= model.Offset(h.LastOffset()) {
			skipping[int64(aborted[0].ProducerID)] = true
			aborted = aborted[1:]
		}
		if h.IsControl() {
			err := batch.Records(b, func(r *batch.Record) error {
				typ, err := batch.ControlType(r.Key)
				if err == nil && typ == batch.ControlAbort {
					delete(skipping, h.ProducerID())
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			continue
		}
		if h.IsTransactional() && skipping[h.ProducerID()] {
			continue
		}
		err := batch.Records(b, func(r *batch.Record) error {
			out = append(out, rec{off: model.Offset(r.Offset), batchBase: model.Offset(h.BaseOffset()), ts: r.Timestamp,
				key: bytes.Clone(r.Key), value: bytes.Clone(r.Value), codec: h.Codec()})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// lastValues is the latest value of every key in recs (a tombstone
// removes the key).
func lastValues(recs []rec) map[string]string {
	m := map[string]string{}
	for _, r := range recs {
		if r.value == nil {
			delete(m, string(r.key))
		} else {
			m[string(r.key)] = string(r.value)
		}
	}
	return m
}

// markers returns the offsets of the control batches of l with their
// delete horizon (0: none).
func markers(t testing.TB, l *Log) map[model.Offset]int64 {
	t.Helper()
	out := map[model.Offset]int64{}
	for _, h := range readAll(t, l, l.LogStartOffset()) {
		if h.IsControl() {
			var horizon int64
			if h.Attributes()&batch.DeleteHorizonBit != 0 {
				horizon = h.FirstTimestamp()
			}
			out[model.Offset(h.BaseOffset())] = horizon
		}
	}
	return out
}
