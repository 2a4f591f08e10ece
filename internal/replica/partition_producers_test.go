package replica

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sluice-io/sluice/internal/model"
	"github.com/sluice-io/sluice/internal/storage"
	"github.com/sluice-io/sluice/internal/storage/storagetest"
)

func testPartitionConfig() Config {
	sc := storage.DefaultConfig()
	sc.FileDeleteDelayMs = 0
	return Config{Storage: sc, MaxMessageBytes: 1 << 20, Codec: -1}
}

// openPartition opens (or creates) the log in dir as a partition.
func openPartition(t testing.TB, dir string, cfg Config) *Partition {
	t.Helper()
	l, err := storage.Open(dir, cfg.Storage)
	if errors.Is(err, os.ErrNotExist) {
		l, err = storage.Create(dir, model.NewTopicID(), cfg.Storage)
	}
	if err != nil {
		t.Fatalf("open log: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	return New(model.TopicPartition{Topic: "t", Partition: 0}, l, cfg, 0)
}

// testNow is the wall clock of the test run: producers expire by their
// batches' timestamps, so those must be recent.
var testNow = time.Now().UnixMilli()

// appendIdem appends one idempotent batch and checks the outcome.
func appendIdem(t *testing.T, p *Partition, pid int64, epoch int16, seq int32, n int, wantBase model.Offset, wantErr error) {
	t.Helper()
	base, _, err := p.Append(storagetest.Idempotent(n, pid, epoch, seq, testNow), testNow)
	if !errors.Is(err, wantErr) || (wantErr == nil && base != wantBase) {
		t.Fatalf("append pid %d epoch %d seq %d: base %d, err %v; want %d, %v", pid, epoch, seq, base, err, wantBase, wantErr)
	}
}

func TestPartitionDeduplicates(t *testing.T) {
	p := openPartition(t, filepath.Join(t.TempDir(), "t-0"), testPartitionConfig())
	appendIdem(t, p, 9, 0, 0, 3, 0, nil)
	appendIdem(t, p, 9, 0, 3, 2, 3, nil)
	if _, _, err := p.Append(storagetest.Batch(1, 8, testNow), testNow); err != nil { // a plain producer in between
		t.Fatal(err)
	}
	appendIdem(t, p, 9, 0, 0, 3, 0, nil) // retry of the first batch
	appendIdem(t, p, 9, 0, 3, 2, 3, nil) // and of the second
	if leo := p.LogEndOffset(); leo != 6 {
		t.Fatalf("log end %d after duplicates, want 6", leo)
	}
	appendIdem(t, p, 9, 0, 6, 1, 0, ErrOutOfOrderSequence)
	appendIdem(t, p, 9, 0, 5, 1, 6, nil)
	appendIdem(t, p, 9, 1, 0, 1, 7, nil) // epoch bump
	appendIdem(t, p, 9, 0, 6, 1, 0, ErrInvalidProducerEpoch)
	infos, err := p.ActiveProducers(testNow)
	if err != nil || len(infos) != 1 || infos[0] != (ProducerInfo{ID: 9, Epoch: 1, LastSequence: 0, LastTimestamp: testNow,
		CoordinatorEpoch: -1, CurrentTxnStartOffset: -1}) {
		t.Fatalf("ActiveProducers = %+v, %v", infos, err)
	}
}

// TestDuplicateKeepsLogAppendTime: a duplicate answers with the stored
// batch's timestamp, as Kafka does.
func TestDuplicateKeepsLogAppendTime(t *testing.T) {
	cfg := testPartitionConfig()
	cfg.LogAppendTime = true
	p := openPartition(t, filepath.Join(t.TempDir(), "t-0"), cfg)
	if _, ts, err := p.Append(storagetest.Idempotent(1, 4, 0, 0, 5), 7000); err != nil || ts != 7000 {
		t.Fatalf("append: ts %d, %v", ts, err)
	}
	if base, ts, err := p.Append(storagetest.Idempotent(1, 4, 0, 0, 5), 9000); err != nil || base != 0 || ts != 7000 {
		t.Fatalf("duplicate: base %d ts %d, %v; want 0, 7000", base, ts, err)
	}
}

// fillRolling appends batches of producers 1 and 2 to a log that rolls
// every few batches, so snapshots are written along the way.
func fillRolling(t *testing.T, p *Partition, batches int) {
	t.Helper()
	for i := range batches {
		pid := int64(1 + i%2)
		appendIdem(t, p, pid, 0, int32(i/2*2), 2, model.Offset(2*i), nil)
	}
}

func rollingConfig() Config {
	cfg := testPartitionConfig()
	cfg.Storage.SegmentBytes = 400
	return cfg
}

// checkRebuilt: the last 5 batches of each producer are still known as
// duplicates, older ones are out of sequence, the next one is accepted.
func checkRebuilt(t *testing.T, p *Partition, batches int) {
	t.Helper()
	end := model.Offset(2 * batches)
	for i := batches - 10; i < batches; i++ {
		pid := int64(1 + i%2)
		appendIdem(t, p, pid, 0, int32(i/2*2), 2, model.Offset(2*i), nil)
	}
	appendIdem(t, p, 1, 0, int32((batches-12)/2*2), 2, 0, ErrOutOfOrderSequence)
	if p.LogEndOffset() != end {
		t.Fatalf("log end %d, want %d: a duplicate was appended", p.LogEndOffset(), end)
	}
	appendIdem(t, p, 1, 0, int32(batches/2*2), 2, end, nil)
}

func TestProducerStateSurvivesCleanRestart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "t-0")
	p := openPartition(t, dir, rollingConfig())
	fillRolling(t, p, 40)
	if err := p.Log().Close(); err != nil {
		t.Fatal(err)
	}
	p = openPartition(t, dir, rollingConfig())
	offs, _ := p.Log().ProducerSnapshotOffsets()
	if len(offs) < 2 || offs[len(offs)-1] != 80 {
		t.Fatalf("snapshots %v: want roll snapshots and one at the log end (80) from Close", offs)
	}
	checkRebuilt(t, p, 40)
}

// TestProducerStateSurvivesCrash: the directory as a kill -9 leaves it
// (no Close, so no final snapshot; the newest snapshot is torn): the state
// comes from an older roll snapshot plus the batch headers after it.
func TestProducerStateSurvivesCrash(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "t-0")
	p := openPartition(t, dir, rollingConfig())
	fillRolling(t, p, 40)
	crashed := filepath.Join(t.TempDir(), "t-0")
	copyDir(t, dir, crashed)
	offs, _ := p.Log().ProducerSnapshotOffsets()
	if len(offs) < 2 {
		t.Fatalf("only %d roll snapshots", len(offs))
	}
	newest := filepath.Join(crashed, snapshotPath(offs[len(offs)-1]))
	if err := os.WriteFile(newest, []byte{0, 1, 2}, 0o644); err != nil {
		t.Fatal(err)
	}
	p2 := openPartition(t, crashed, rollingConfig())
	checkRebuilt(t, p2, 40)
}

// TestProducerStateWithoutSnapshots: no snapshot at all (a log written
// before they existed): a full replay.
func TestProducerStateWithoutSnapshots(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "t-0")
	p := openPartition(t, dir, rollingConfig())
	fillRolling(t, p, 40)
	p.Log().Close()
	offs, _ := p.Log().ProducerSnapshotOffsets()
	for _, o := range offs {
		os.Remove(filepath.Join(dir, snapshotPath(o)))
	}
	checkRebuilt(t, openPartition(t, dir, rollingConfig()), 40)
}

// TestReloadAfterTruncation: batches cut by a truncation are forgotten.
func TestReloadAfterTruncation(t *testing.T) {
	p := openPartition(t, filepath.Join(t.TempDir(), "t-0"), rollingConfig())
	fillRolling(t, p, 20)                    // producer 1: sequences 0..19, offsets up to 40
	if err := p.TruncateTo(20); err != nil { // rebuilds the producer state
		t.Fatal(err)
	}
	// Batches 10.. are gone: producer 1's last batch is batch 8 (sequence 8).
	appendIdem(t, p, 1, 0, 12, 2, 0, ErrOutOfOrderSequence)
	appendIdem(t, p, 1, 0, 10, 2, 20, nil)
}

func TestExpireProducers(t *testing.T) {
	cfg := testPartitionConfig()
	cfg.ProducerIDExpirationMs = 500
	p := openPartition(t, filepath.Join(t.TempDir(), "t-0"), cfg)
	appendIdem(t, p, 3, 0, 0, 1, 0, nil) // timestamp testNow
	if n, err := p.ExpireProducers(testNow + 400); err != nil || n != 0 {
		t.Fatalf("expired %d, %v; want none yet", n, err)
	}
	if n, err := p.ExpireProducers(testNow + 500); err != nil || n != 1 {
		t.Fatalf("expired %d, %v; want 1", n, err)
	}
	// Forgotten: any sequence is accepted again (KIP-360).
	appendIdem(t, p, 3, 0, 7, 1, 1, nil)
	infos, _ := p.ActiveProducers(testNow + 500)
	if len(infos) != 1 || infos[0].LastSequence != 7 {
		t.Fatalf("ActiveProducers = %+v", infos)
	}
}

// snapshotPath is the snapshot file name storage uses.
func snapshotPath(off model.Offset) string { return fmt.Sprintf("%020d.snapshot", off) }

// copyDir copies the files of src into a new dst, as they are now.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		in, err := os.Open(filepath.Join(src, e.Name()))
		if os.IsNotExist(err) {
			continue // a checkpoint .tmp renamed meanwhile
		}
		if err != nil {
			t.Fatal(err)
		}
		out, err := os.Create(filepath.Join(dst, e.Name()))
		if err == nil {
			_, err = io.Copy(out, in)
			out.Close()
		}
		in.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
}
