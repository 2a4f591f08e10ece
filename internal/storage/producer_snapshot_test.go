package storage

import (
	"errors"
	"os"
	"reflect"
	"slices"
	"testing"

	"github.com/sluice-io/sluice/internal/batch"
	"github.com/sluice-io/sluice/internal/model"
	"github.com/sluice-io/sluice/internal/storage/storagetest"
)

func sampleSnapshot() []ProducerSnapshotEntry {
	return []ProducerSnapshotEntry{
		{ProducerID: 7, Epoch: 2, CoordinatorEpoch: -1, CurrentTxnFirstOffset: -1, LastTimestamp: 99,
			Batches: []ProducerSnapshotBatch{{FirstSeq: 0, LastSeq: 4, FirstOffset: 10, LastOffset: 14, Timestamp: 98},
				{FirstSeq: 5, LastSeq: 5, FirstOffset: 20, LastOffset: 20, Timestamp: 99}}},
		{ProducerID: 1 << 40, Epoch: 0, CoordinatorEpoch: 3, CurrentTxnFirstOffset: 12, LastTimestamp: 5, Batches: []ProducerSnapshotBatch{}},
	}
}

func TestProducerSnapshotRoundTrip(t *testing.T) {
	want := sampleSnapshot()
	b := encodeProducerSnapshot(21, want)
	got, err := decodeProducerSnapshot(b, 21)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, want)
	}
}

func TestProducerSnapshotRejectsDamage(t *testing.T) {
	good := encodeProducerSnapshot(21, sampleSnapshot())
	tests := []struct {
		name string
		b    []byte
		off  model.Offset
	}{
		{"empty", nil, 21},
		{"truncated", good[:len(good)-3], 21},
		{"flipped bit", func() []byte { b := slices.Clone(good); b[30] ^= 1; return b }(), 21},
		{"wrong version", func() []byte { b := slices.Clone(good); b[1] = 9; return b }(), 21},
		{"renamed file", good, 22},
		{"trailing bytes", append(slices.Clone(good), 0), 21},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := decodeProducerSnapshot(tt.b, tt.off); !errors.Is(err, errBadSnapshot) {
				t.Fatalf("err = %v, want errBadSnapshot", err)
			}
		})
	}
}

func FuzzDecodeProducerSnapshot(f *testing.F) {
	f.Add(encodeProducerSnapshot(21, sampleSnapshot()))
	f.Add([]byte{0, 1, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		entries, err := decodeProducerSnapshot(b, 21)
		if err != nil {
			return
		}
		if again := encodeProducerSnapshot(21, entries); !slices.Equal(again, b) {
			t.Fatalf("re-encoding differs")
		}
	})
}

// TestLoadProducerSnapshot: the newest readable snapshot at or below the
// log end wins; newer ones and torn ones are deleted.
func TestLoadProducerSnapshot(t *testing.T) {
	l := newTestLog(t, testConfig())
	appendBatches(t, l, 10, 1, 8, 0) // log end 10
	for _, off := range []model.Offset{3, 6, 12} {
		if err := l.WriteProducerSnapshot(off, sampleSnapshot()); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(segmentName(l.Dir(), 8, producerSnapshotSuffix), []byte("torn"), 0o644); err != nil {
		t.Fatal(err)
	}
	off, entries, found, err := l.LoadProducerSnapshot()
	if err != nil || !found || off != 6 || len(entries) != 2 {
		t.Fatalf("load = %d, %d entries, %v, %v; want 6, 2 entries", off, len(entries), found, err)
	}
	offs, _ := l.ProducerSnapshotOffsets()
	if !slices.Equal(offs, []model.Offset{3, 6}) {
		t.Fatalf("snapshots left = %v, want [3 6]", offs)
	}
}

// TestProducerSnapshotsFollowSegments: retention removes snapshots below
// the new first segment but keeps the newest; truncation removes those
// above the new end; the roll and close hooks fire.
func TestProducerSnapshotsFollowSegments(t *testing.T) {
	cfg := testConfig()
	cfg.SegmentBytes = 200
	l := newTestLog(t, cfg)
	var rolls []model.Offset
	closed := 0
	l.SetSnapshotHooks(SnapshotHooks{
		Rolled:  func(base model.Offset) { rolls = append(rolls, base) },
		Closing: func() { closed++ },
	})
	appendBatches(t, l, 6, 1, 100, 0) // one batch per segment
	if len(rolls) != 5 || rolls[0] != 1 || rolls[4] != 5 {
		t.Fatalf("rolls = %v, want 1..5", rolls)
	}
	for _, off := range rolls {
		if err := l.WriteProducerSnapshot(off, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.DeleteRecordsBefore(3); err != nil {
		t.Fatal(err)
	}
	if offs, _ := l.ProducerSnapshotOffsets(); !slices.Equal(offs, []model.Offset{3, 4, 5}) {
		t.Fatalf("after retention: %v, want [3 4 5]", offs)
	}
	if err := l.TruncateTo(4); err != nil {
		t.Fatal(err)
	}
	if offs, _ := l.ProducerSnapshotOffsets(); !slices.Equal(offs, []model.Offset{3, 4}) {
		t.Fatalf("after truncation: %v, want [3 4]", offs)
	}
	if err := l.TruncateFullyAndStartAt(50); err != nil {
		t.Fatal(err)
	}
	if offs, _ := l.ProducerSnapshotOffsets(); len(offs) != 0 {
		t.Fatalf("after full truncation: %v, want none", offs)
	}
	l.Close()
	if closed != 1 {
		t.Fatalf("Closing ran %d times, want 1", closed)
	}
}

// TestRetentionKeepsNewestSnapshot: when every segment goes, the newest
// snapshot stays: it holds producers whose batches are gone.
func TestRetentionKeepsNewestSnapshot(t *testing.T) {
	cfg := testConfig()
	cfg.SegmentBytes = 200
	l := newTestLog(t, cfg)
	appendBatches(t, l, 3, 1, 100, 0) // segments at 0, 1, 2
	for _, off := range []model.Offset{0, 1} {
		if err := l.WriteProducerSnapshot(off, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.DeleteRecordsBefore(3); err != nil { // segments 0 and 1 go
		t.Fatal(err)
	}
	if offs, _ := l.ProducerSnapshotOffsets(); !slices.Equal(offs, []model.Offset{1}) {
		t.Fatalf("snapshots = %v, want [1]", offs)
	}
}

func TestScanBatchHeaders(t *testing.T) {
	cfg := testConfig()
	cfg.SegmentBytes = 300
	cfg.IndexIntervalBytes = 1
	l := newTestLog(t, cfg)
	for i := range 12 {
		b := storagetest.Idempotent(2, 5, 0, int32(2*i), int64(i))
		if _, err := l.Append(b, 0); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		from      model.Offset
		wantFirst int32 // base sequence of the first batch seen
		wantN     int
	}{
		{0, 0, 12}, {1, 0, 12}, {2, 2, 11}, {13, 12, 6}, {23, 22, 1}, {24, 0, 0},
	}
	for _, tt := range tests {
		var seqs []int32
		err := l.ScanBatchHeaders(tt.from, func(h batch.Header) error {
			if h.ProducerID() != 5 {
				t.Errorf("producer id %d", h.ProducerID())
			}
			seqs = append(seqs, h.BaseSequence())
			return nil
		})
		if err != nil {
			t.Fatalf("from %d: %v", tt.from, err)
		}
		if len(seqs) != tt.wantN || (tt.wantN > 0 && seqs[0] != tt.wantFirst) {
			t.Errorf("from %d: sequences %v, want %d batches from %d", tt.from, seqs, tt.wantN, tt.wantFirst)
		}
		for i := 1; i < len(seqs); i++ {
			if seqs[i] != seqs[i-1]+2 {
				t.Errorf("from %d: out of order %v", tt.from, seqs)
				break
			}
		}
	}
	stop := errors.New("stop")
	n := 0
	if err := l.ScanBatchHeaders(0, func(batch.Header) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Fatalf("stop: err %v after %d calls", err, n)
	}
}
