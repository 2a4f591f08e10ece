package storage

import (
	"encoding/hex"
	"errors"
	"os"
	"slices"
	"testing"

	"github.com/sluice-io/sluice/internal/model"
)

// txnLog is a log of 35 one-record batches in segments 0, 10, 20, 30 with
// aborted transactions whose markers sit in segments 10, 20 and 30.
func txnLog(t *testing.T) (*Log, []AbortedTxn) {
	t.Helper()
	l := segLog(t, testConfig(), 35, 0)
	if got := bases(l); !slices.Equal(got, []model.Offset{0, 10, 20, 30}) {
		t.Fatalf("segments %v", got)
	}
	aborted := []AbortedTxn{
		{ProducerID: 1, FirstOffset: 2, LastOffset: 12, LastStableOffset: 5},  // spans 0..12, LSO held by 5
		{ProducerID: 2, FirstOffset: 5, LastOffset: 14, LastStableOffset: 15}, // spans 5..14
		{ProducerID: 3, FirstOffset: 21, LastOffset: 22, LastStableOffset: 23},
		{ProducerID: 4, FirstOffset: 31, LastOffset: 33, LastStableOffset: 34},
	}
	for _, e := range aborted {
		if err := l.AppendAbortedTxn(e); err != nil {
			t.Fatal(err)
		}
	}
	return l, aborted
}

func pids(es []AbortedTxn) []model.ProducerID {
	out := []model.ProducerID{}
	for _, e := range es {
		out = append(out, e.ProducerID)
	}
	return out
}

func TestAbortedTxns(t *testing.T) {
	l, _ := txnLog(t)
	tests := []struct {
		name     string
		from, to model.Offset
		want     []model.ProducerID
	}{
		{"first segment: both open transactions overlap", 0, 35, []model.ProducerID{1, 2}},
		{"from 3: range ends at segment 10", 3, 35, []model.ProducerID{1, 2}},
		{"below every transaction's first offset", 0, 2, []model.ProducerID{}},
		{"up to 5: only pid 1 started", 0, 5, []model.ProducerID{1}},
		{"segment 10", 10, 35, []model.ProducerID{1, 2}},
		{"after pid 1's marker", 13, 35, []model.ProducerID{2}},
		{"segment 20", 20, 35, []model.ProducerID{3}},
		{"segment 30", 30, 35, []model.ProducerID{4}},
		{"after every marker", 34, 35, []model.ProducerID{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := l.AbortedTxns(tt.from, tt.to)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(pids(got), tt.want) {
				t.Fatalf("AbortedTxns(%d, %d) = %v, want producers %v", tt.from, tt.to, got, tt.want)
			}
		})
	}
}

func TestTxnIndexFileLayout(t *testing.T) {
	l, _ := txnLog(t)
	b, err := os.ReadFile(segmentName(l.Dir(), 20, txnIndexSuffix))
	if err != nil {
		t.Fatal(err)
	}
	// version 0, producer 3, first 21, last 22, last stable 23 (Kafka's AbortedTxn).
	want := "0000" + "0000000000000003" + "0000000000000015" + "0000000000000016" + "0000000000000017"
	if got := hex.EncodeToString(b); got != want {
		t.Fatalf("segment 20 .txnindex = %s, want %s", got, want)
	}
	if _, err := os.Stat(segmentName(l.Dir(), 0, txnIndexSuffix)); !os.IsNotExist(err) {
		t.Fatalf("segment 0 has a .txnindex without aborted transactions: %v", err)
	}
}

func TestTxnIndexSurvivesReopenAndIsIdempotent(t *testing.T) {
	l, aborted := txnLog(t)
	l2 := reopen(t, l, testConfig())
	for _, e := range aborted { // a replay after a restart appends them again
		if err := l2.AppendAbortedTxn(e); err != nil {
			t.Fatal(err)
		}
	}
	// A replayed marker below the last entry goes in order.
	extra := AbortedTxn{ProducerID: 9, FirstOffset: 11, LastOffset: 13, LastStableOffset: 15}
	if err := l2.AppendAbortedTxn(extra); err != nil {
		t.Fatal(err)
	}
	l3 := reopen(t, l2, testConfig())
	got, err := l3.AbortedTxns(10, 35)
	if err != nil {
		t.Fatal(err)
	}
	if want := []model.ProducerID{1, 9, 2}; !slices.Equal(pids(got), want) {
		t.Fatalf("after reopen: %v, want producers %v", got, want)
	}
}

func TestTxnIndexTruncation(t *testing.T) {
	l, _ := txnLog(t)
	if err := l.TruncateTo(14); err != nil {
		t.Fatal(err)
	}
	got, err := l.AbortedTxns(10, 35)
	if err != nil {
		t.Fatal(err)
	}
	if want := []model.ProducerID{1}; !slices.Equal(pids(got), want) {
		t.Fatalf("after TruncateTo(14): %v, want producers %v", got, want)
	}
	for _, base := range []model.Offset{20, 30} {
		if _, err := os.Stat(segmentName(l.Dir(), base, txnIndexSuffix)); !os.IsNotExist(err) {
			t.Errorf("truncated segment %d kept its .txnindex: %v", base, err)
		}
	}
	// Offsets reused after truncation start without stale entries.
	appendBatches(t, l, 20, 1, 20, 0)
	if got, _ := l.AbortedTxns(20, 35); len(got) != 0 {
		t.Fatalf("stale entries after re-append: %v", got)
	}
}

func TestTxnIndexDeletedWithSegment(t *testing.T) {
	l, _ := txnLog(t)
	if err := l.DeleteRecordsBefore(25); err != nil {
		t.Fatal(err)
	}
	for _, base := range []model.Offset{10} {
		if _, err := os.Stat(segmentName(l.Dir(), base, txnIndexSuffix)); !os.IsNotExist(err) {
			t.Errorf("deleted segment %d kept its .txnindex: %v", base, err)
		}
	}
	got, err := l.AbortedTxns(30, 35)
	if err != nil {
		t.Fatal(err)
	}
	if want := []model.ProducerID{4}; !slices.Equal(pids(got), want) {
		t.Fatalf("%v, want producers %v", got, want)
	}
}

func TestTxnIndexTornEntryAndCutTail(t *testing.T) {
	cfg := testConfig()
	l, _ := txnLog(t)
	dir := l.Dir()
	l.Flush()
	l.bg.Wait()
	l.flush.lower(30) // segment 30 gets scanned at Open
	l.writeCheckpoint(checkpoint{})
	l.crash()
	// A torn entry in segment 20's index; segment 30 loses its tail from
	// offset 32 on, taking pid 4's marker (33) with it.
	appendFile(t, segmentName(dir, 20, txnIndexSuffix), []byte{0, 0, 1, 2, 3})
	if err := os.Truncate(segmentName(dir, 30, logSuffix), 2*100+50); err != nil {
		t.Fatal(err)
	}
	l2, err := Open(dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	if l2.LogEndOffset() != 32 {
		t.Fatalf("LogEndOffset = %d, want 32", l2.LogEndOffset())
	}
	got, err := l2.AbortedTxns(20, 40)
	if err != nil {
		t.Fatal(err)
	}
	if want := []model.ProducerID{3}; !slices.Equal(pids(got), want) {
		t.Fatalf("%v, want producers %v", got, want)
	}
	if fi, err := os.Stat(segmentName(dir, 20, txnIndexSuffix)); err != nil || fi.Size() != txnEntrySize {
		t.Fatalf("torn entry not cut: %v %v", fi, err)
	}
}

// TestTxnIndexOfReplacedSegment: the index of a segment a cleaned segment
// replaced keeps serving its entries to readers that pinned it, and
// refuses appends, which must go to the new segment list.
func TestTxnIndexOfReplacedSegment(t *testing.T) {
	l, aborted := txnLog(t)
	s := l.segments()[1]
	if err := s.txnIdx.load(s.txnIndexPath()); err != nil {
		t.Fatal(err)
	}
	s.txnIdx.markReplaced()
	got, _, err := s.txnIdx.collect(s.txnIndexPath(), nil, 0, 35)
	if err != nil || !slices.Equal(pids(got), []model.ProducerID{1, 2}) {
		t.Fatalf("collect = %v, %v; want producers 1 and 2", got, err)
	}
	if err := s.txnIdx.append(s.txnIndexPath(), aborted[0]); !errors.Is(err, errTxnIndexReplaced) {
		t.Fatalf("append = %v, want errTxnIndexReplaced", err)
	}
}
