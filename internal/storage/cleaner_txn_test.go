package storage

import (
	"fmt"
	"os"
	"testing"

	"github.com/sluice-io/sluice/internal/model"
)

// txnCleanConfig is compactConfig with small segments, every dirty byte
// worth a pass, and a one-second delete.retention.ms.
func txnCleanConfig() Config {
	cfg := compactConfig()
	cfg.SegmentBytes = 4 << 10
	cfg.MinCleanableDirtyRatio = 0
	cfg.DeleteRetentionMs = 1000
	return cfg
}

// fill appends n plain batches of unique keys (prefix-i) with 100-byte
// values, enough of them to roll segments.
func fill(w *txnWriter, prefix string, n int) {
	for i := range n {
		w.plain(kv{fmt.Appendf(nil, "%s-%d", prefix, i), make([]byte, 100)})
	}
}

func val(s string) kv { return kv{[]byte("K"), []byte(s)} }

// TestCleanDropsAbortedTransactions: an aborted transaction's records
// never shadow the committed value of their key, and a pass drops them;
// read_committed and read_uncommitted consumers read the same values
// after the pass and after a restart.
func TestCleanDropsAbortedTransactions(t *testing.T) {
	tests := []struct {
		name         string
		write        func(w *txnWriter)
		want         string // the value of K after cleaning ("" : none)
		markerActive bool   // write leaves its last marker in the active segment
	}{
		{"aborted update after a committed value", func(w *txnWriter) {
			w.plain(val("v1"))
			w.txn(7, val("v2-aborted"))
			w.end(7, false)
		}, "v1", false},
		{"aborted tombstone", func(w *txnWriter) {
			w.plain(val("v1"))
			w.txn(7, kv{[]byte("K"), nil})
			w.end(7, false)
		}, "v1", false},
		{"committed transaction after an aborted one", func(w *txnWriter) {
			w.plain(val("v1"))
			w.txn(7, val("v2-aborted"))
			w.end(7, false)
			w.txn(7, val("v3"))
			w.end(7, true)
		}, "v3", false},
		{"interleaved producers", func(w *txnWriter) {
			w.txn(1, val("v1"))
			w.txn(2, val("v2-aborted"))
			w.end(1, true)
			w.txn(2, val("v3-aborted"))
			w.end(2, false)
		}, "v1", false},
		{"aborted transaction over several segments, marker in the active one", func(w *txnWriter) {
			w.plain(val("v1"))
			w.txn(7, val("v2-aborted"))
			fill(w, "a", 80)
			w.txn(7, val("v3-aborted"))
			fill(w, "b", 80)
			rollNow(w.t, w.l)
			w.end(7, false) // its index entry is in the active segment
		}, "v1", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := txnCleanConfig()
			l := newTestLog(t, cfg)
			w := newTxnWriter(t, l, t0)
			tt.write(w)
			if !tt.markerActive {
				fill(w, "filler", 60)
				rollNow(t, l)
			}
			w.plain(kv{[]byte("active"), []byte("x")})
			if st := mustClean(t, l, t0); !st.Cleaned {
				t.Fatalf("no pass: %+v", st)
			}
			check := func(l *Log, when string) {
				t.Helper()
				for _, committed := range []bool{true, false} {
					got := lastValues(consume(t, l, l.LogEndOffset(), committed))["K"]
					if got != tt.want {
						t.Errorf("%s, read_committed=%v: K = %q, want %q", when, committed, got, tt.want)
					}
				}
			}
			check(l, "after cleaning")
			check(reopen(t, l, cfg), "after a restart")
		})
	}
}

// TestCleanStopsAtLastStableOffset: with a transaction open, a pass up to
// the last stable offset leaves the open transaction's records and every
// later segment alone; once the transaction aborts, the committed value
// survives.
func TestCleanStopsAtLastStableOffset(t *testing.T) {
	cfg := txnCleanConfig()
	l := newTestLog(t, cfg)
	w := newTxnWriter(t, l, t0)
	fill(w, "before", 60)
	w.plain(val("v1"))
	open := w.txn(7, val("v2-aborted"))
	fill(w, "after", 100)
	rollNow(t, l)
	st, err := l.CleanUpTo(t0, w.lso())
	if err != nil {
		t.Fatal(err)
	}
	if st.EndOffset > open {
		t.Fatalf("pass up to %d went past the open transaction at %d", st.EndOffset, open)
	}
	if got := lastValues(consume(t, l, l.LogEndOffset(), false))["K"]; got != "v2-aborted" {
		t.Fatalf("K = %q while the transaction is open, want its record still there", got)
	}
	w.end(7, false)
	rollNow(t, l)
	if _, err := l.CleanUpTo(t0, w.lso()); err != nil {
		t.Fatal(err)
	}
	for _, committed := range []bool{true, false} {
		if got := lastValues(consume(t, l, l.LogEndOffset(), committed))["K"]; got != "v1" {
			t.Errorf("read_committed=%v after the abort: K = %q, want v1", committed, got)
		}
	}
}

// TestCleanedSegmentKeepsTxnIndex: the ABORT marker of a transaction whose
// records a pass dropped stays, with its transaction index entry in the
// cleaned segment, so that a read_committed fetch of batches read before
// the swap still drops the aborted records; the entry survives a restart.
func TestCleanedSegmentKeepsTxnIndex(t *testing.T) {
	cfg := txnCleanConfig()
	cfg.FileDeleteDelayMs = 60_000
	l := newTestLog(t, cfg)
	w := newTxnWriter(t, l, t0)
	w.plain(val("v1"))
	w.txn(7, val("v2-aborted"))
	marker := w.end(7, false)
	fill(w, "filler", 20)
	rollNow(t, l)
	before, err := l.Read(0, 1<<20, true) // a fetch in flight during the pass
	if err != nil {
		t.Fatal(err)
	}
	mustClean(t, l, t0)
	want := []AbortedTxn{{ProducerID: 7, FirstOffset: 1, LastOffset: marker, LastStableOffset: marker + 1}}
	checkEntries := func(l *Log, when string) {
		t.Helper()
		got, err := l.AbortedTxns(0, l.LogEndOffset())
		if err != nil || len(got) != 1 || got[0] != want[0] {
			t.Errorf("%s: AbortedTxns = %+v, %v; want %+v", when, got, err, want)
		}
	}
	checkEntries(l, "after cleaning")
	if _, ok := markers(t, l)[marker]; !ok {
		t.Fatalf("ABORT marker at %d gone in the pass that dropped its data", marker)
	}
	aborted, err := l.AbortedTxns(0, l.LogEndOffset())
	if err != nil {
		t.Fatal(err)
	}
	recs := appendConsumed(t, nil, chunkBytes(t, before), aborted)
	if got := lastValues(recs)["K"]; got != "v1" {
		t.Errorf("read_committed fetch read before the swap: K = %q, want v1", got)
	}
	// Replaying the marker (producer state rebuilt) indexes it once, in
	// the cleaned segment's file.
	if err := l.AppendAbortedTxn(want[0]); err != nil {
		t.Fatal(err)
	}
	base := l.segments()[0].base
	if fi, err := os.Stat(segmentName(l.Dir(), base, txnIndexSuffix)); err != nil || fi.Size() != txnEntrySize {
		t.Errorf("cleaned segment's transaction index: %v, %v; want one entry", fi, err)
	}
	checkEntries(reopen(t, l, cfg), "after a restart")
}

// TestCleanRemovesMarkersOnlyWhenSafe follows markers over passes: a
// marker stays while its transaction has data in the log, then gets a
// delete horizon, and goes only once the horizon passed; the marker
// after the last data batch of a producer still active stays.
func TestCleanRemovesMarkersOnlyWhenSafe(t *testing.T) {
	const now = t0 + 10*dayMs
	cfg := txnCleanConfig()
	l := newTestLog(t, cfg)
	w := newTxnWriter(t, l, now-2*dayMs) // producers 1 and 2 expired by now
	w.txn(1, val("a1"))
	commit := w.end(1, true)
	w.txn(2, kv{[]byte("B"), []byte("b-aborted")})
	abort := w.end(2, false)
	w.ts = now - 1000 // producer 3 still active
	w.txn(3, kv{[]byte("C"), []byte("c1")})
	active := w.end(3, true)
	w.plain(val("a2"), kv{[]byte("C"), []byte("c2")})
	fill(w, "filler", 20)
	rollNow(t, l)

	type want struct {
		present bool
		horizon int64 // 0: none
	}
	pass := func(name string, nowMs int64, dirty bool, exp map[model.Offset]want) {
		t.Helper()
		if dirty {
			w.plain(kv{[]byte(name), []byte("x")})
			rollNow(t, l)
		}
		st := mustClean(t, l, nowMs)
		got := markers(t, l)
		for off, e := range exp {
			h, ok := got[off]
			if ok != e.present || (ok && h != e.horizon) {
				t.Errorf("%s (%+v): marker %d present %v horizon %d, want %+v; markers %v",
					name, st, off, ok, h, e, got)
			}
		}
	}
	horizon := now + cfg.DeleteRetentionMs
	pass("first pass: data read", now, false, map[model.Offset]want{
		commit: {true, 0}, abort: {true, 0}, active: {true, 0}})
	pass("second pass: no data left", now, true, map[model.Offset]want{
		commit: {true, horizon}, abort: {true, horizon}, active: {true, 0}})
	if got, _ := l.AbortedTxns(0, l.LogEndOffset()); len(got) != 0 {
		t.Errorf("entries %+v kept for a transaction without data", got)
	}
	pass("before the horizon", horizon-1, true, map[model.Offset]want{
		commit: {true, horizon}, abort: {true, horizon}, active: {true, 0}})
	pass("at the horizon", horizon, false, map[model.Offset]want{
		commit: {false, 0}, abort: {false, 0}, active: {true, 0}})
	for _, committed := range []bool{true, false} {
		got := lastValues(consume(t, l, l.LogEndOffset(), committed))
		if got["K"] != "a2" || got["B"] != "" || got["C"] != "c2" {
			t.Errorf("read_committed=%v: K=%q B=%q C=%q, want a2, none, c2", committed, got["K"], got["B"], got["C"])
		}
	}
}
