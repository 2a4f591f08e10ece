package replica

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/sluice-io/sluice/internal/batch"
	"github.com/sluice-io/sluice/internal/model"
	"github.com/sluice-io/sluice/internal/storage"
	"github.com/sluice-io/sluice/internal/storage/storagetest"
)

func txnBatch(n int, pid int64, epoch int16, seq int32) []byte {
	return storagetest.SetTransactional(storagetest.Idempotent(n, pid, epoch, seq, testNow), true)
}

// txnStep is one step of a partition transaction scenario.
type txnStep struct {
	name    string
	do      func(p *Partition) error
	wantLSO model.Offset
	wantErr error
}

func produceTxn(n int, pid int64, epoch int16, seq int32) func(*Partition) error {
	return func(p *Partition) error { _, _, err := p.Append(txnBatch(n, pid, epoch, seq), testNow); return err }
}

func producePlain(n int) func(*Partition) error {
	return func(p *Partition) error { _, _, err := p.Append(storagetest.Batch(n, 1, testNow), testNow); return err }
}

func marker(pid int64, epoch int16, coordEpoch int32, commit bool) func(*Partition) error {
	return func(p *Partition) error {
		_, err := p.AppendTxnMarker(TxnMarker{ProducerID: model.ProducerID(pid), ProducerEpoch: model.ProducerEpoch(epoch),
			CoordinatorEpoch: coordEpoch, Commit: commit}, testNow)
		return err
	}
}

func runTxnSteps(t *testing.T, p *Partition, steps []txnStep) {
	t.Helper()
	for _, s := range steps {
		if err := s.do(p); !errors.Is(err, s.wantErr) {
			t.Fatalf("%s: err %v, want %v", s.name, err, s.wantErr)
		}
		if got := p.LastStableOffset(); got != s.wantLSO {
			t.Fatalf("%s: LSO %d, want %d (HW %d)", s.name, got, s.wantLSO, p.HighWatermark())
		}
	}
}

// txnScenario leaves producer 2's transaction (offsets 6-7) open after
// producer 1 committed one and aborted one.
var txnScenario = []txnStep{
	{"empty", func(*Partition) error { return nil }, 0, nil},
	{"plain batch", producePlain(2), 2, nil},                      // 0-1
	{"pid 1 opens a transaction", produceTxn(2, 1, 0, 0), 2, nil}, // 2-3
	{"plain batch during it", producePlain(1), 2, nil},            // 4
	{"pid 1 commits", marker(1, 0, 5, true), 6, nil},              // 5
	{"pid 2 opens a transaction", produceTxn(2, 2, 0, 0), 6, nil}, // 6-7
	{"pid 1 opens another", produceTxn(1, 1, 0, 2), 6, nil},       // 8
	{"pid 1 aborts it", marker(1, 0, 5, false), 6, nil},           // 9
	{"old coordinator epoch", marker(1, 0, 4, true), 6, ErrTransactionCoordinatorFenced},
	{"old producer epoch", marker(2, -1, 5, true), 6, ErrInvalidProducerEpoch},
	{"non-transactional batch inside a transaction", func(p *Partition) error {
		_, _, err := p.Append(storagetest.Idempotent(1, 2, 0, 2, testNow), testNow)
		return err
	}, 6, ErrInvalidTxnState},
}

func TestLastStableOffset(t *testing.T) {
	p := openPartition(t, filepath.Join(t.TempDir(), "t-0"), testPartitionConfig())
	runTxnSteps(t, p, txnScenario)
	runTxnSteps(t, p, []txnStep{
		{"pid 2 aborts", marker(2, 0, 5, false), 11, nil}, // 10
		{"marker without a transaction", marker(2, 0, 5, false), 12, nil},
	})
	aborted, err := p.AbortedTxns(0, p.LastStableOffset())
	if err != nil {
		t.Fatal(err)
	}
	want := []storage.AbortedTxn{
		{ProducerID: 1, FirstOffset: 8, LastOffset: 9, LastStableOffset: 6},
		{ProducerID: 2, FirstOffset: 6, LastOffset: 10, LastStableOffset: 11},
	}
	if !slices.Equal(aborted, want) {
		t.Fatalf("aborted %+v, want %+v", aborted, want)
	}
	infos, _ := p.ActiveProducers(testNow)
	for _, in := range infos {
		if in.CoordinatorEpoch != 5 || in.CurrentTxnStartOffset != -1 {
			t.Fatalf("producer after markers: %+v", in)
		}
	}
}

func TestReadCommittedStopsAtLSO(t *testing.T) {
	p := openPartition(t, filepath.Join(t.TempDir(), "t-0"), testPartitionConfig())
	runTxnSteps(t, p, txnScenario)
	c, lso, err := p.ReadCommitted(0, 1<<20, true)
	if err != nil || lso != 6 {
		t.Fatalf("ReadCommitted: lso %d, %v", lso, err)
	}
	b := make([]byte, c.Size)
	if _, err := c.ReadAt(b, 0); err != nil {
		t.Fatal(err)
	}
	last := int64(-1)
	for len(b) > 0 {
		last = batch.Header(b).LastOffset()
		b = b[batch.Header(b).Size():]
	}
	if last != 5 {
		t.Fatalf("read_committed read up to offset %d, want 5 (below the LSO)", last)
	}
	if c, _, _ := p.ReadCommitted(6, 1<<20, true); !c.Empty() {
		t.Fatalf("read at the LSO returned %d bytes", c.Size)
	}
}

// TestTxnStateAfterRestart: the open transaction and the LSO come back
// from the snapshot written at close, and, with every snapshot and index
// gone (a crash), from the batch headers and markers alone.
func TestTxnStateAfterRestart(t *testing.T) {
	for _, crash := range []bool{false, true} {
		name := map[bool]string{false: "clean", true: "no snapshot, no txn index"}[crash]
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "t-0")
			cfg := testPartitionConfig()
			p := openPartition(t, dir, cfg)
			runTxnSteps(t, p, txnScenario)
			if err := p.Log().Close(); err != nil {
				t.Fatal(err)
			}
			if crash {
				for _, pat := range []string{"*.snapshot", "*.txnindex"} {
					files, _ := filepath.Glob(filepath.Join(dir, pat))
					for _, f := range files {
						os.Remove(f)
					}
				}
			}
			p2 := openPartition(t, dir, cfg)
			if lso := p2.LastStableOffset(); lso != 6 {
				t.Fatalf("LSO after restart %d, want 6", lso)
			}
			aborted, err := p2.AbortedTxns(0, 12)
			if err != nil || len(aborted) != 1 || aborted[0].ProducerID != 1 || aborted[0].FirstOffset != 8 {
				t.Fatalf("aborted after restart %+v, %v", aborted, err)
			}
			runTxnSteps(t, p2, []txnStep{
				{"old coordinator epoch after restart", marker(1, 0, 4, true), 6, ErrTransactionCoordinatorFenced},
				{"pid 2 commits", marker(2, 0, 5, true), 11, nil},
			})
		})
	}
}

func TestTxnVerificationGuard(t *testing.T) {
	p := openPartition(t, filepath.Join(t.TempDir(), "t-0"), testPartitionConfig())
	g, verify, err := p.BeginTxnVerification(7, 0)
	if err != nil || !verify {
		t.Fatalf("first batch: verify %v, %v", verify, err)
	}
	// The transaction ends (a timeout abort) before the batch lands.
	if err := marker(7, 0, 0, false)(p); err != nil {
		t.Fatal(err)
	}
	if _, _, err := p.AppendHeld(txnBatch(1, 7, 0, 0), testNow, AppendOptions{Guard: g}); !errors.Is(err, ErrInvalidTxnState) {
		t.Fatalf("append after the marker voided the guard: %v", err)
	}
	g, verify, _ = p.BeginTxnVerification(7, 0)
	if !verify {
		t.Fatal("no open transaction: must verify")
	}
	if _, _, err := p.AppendHeld(txnBatch(1, 7, 0, 0), testNow, AppendOptions{Guard: g}); err != nil {
		t.Fatal(err)
	}
	g, verify, _ = p.BeginTxnVerification(7, 0)
	if verify {
		t.Fatal("transaction open: nothing to verify")
	}
	if _, _, err := p.AppendHeld(txnBatch(1, 7, 0, 1), testNow, AppendOptions{Guard: g}); err != nil {
		t.Fatal(err)
	}
	p.EndTxnVerification(7, g)
	if p.LastStableOffset() != 1 {
		t.Fatalf("LSO %d", p.LastStableOffset())
	}
	// The next transaction's first batch (transactions v2: epoch 1) while
	// the marker of the open one (epoch 0) has not come: it must be
	// verified, or it would join the open transaction and share its fate.
	if _, verify, _ = p.BeginTxnVerification(7, 1); !verify {
		t.Fatal("transaction open at an older epoch: the next epoch's batch must be verified")
	}
}

func TestAppendCoordinator(t *testing.T) {
	p := openPartition(t, filepath.Join(t.TempDir(), "t-0"), testPartitionConfig())
	info := batch.NewBatchInfo(batch.CodecNone)
	info.Transactional, info.ProducerID, info.ProducerEpoch, info.BaseSequence = true, 3, 1, 0
	build := func(info batch.BatchInfo, rec *batch.Record) []byte {
		bl := batch.NewBuilder(info)
		if err := bl.Add(rec); err != nil {
			t.Fatal(err)
		}
		b, err := bl.Build(nil)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for range 2 { // the same sequence twice: coordinators are not sequence-checked
		if _, err := p.AppendCoordinator(build(info, &batch.Record{Timestamp: testNow, Key: []byte("k"), Value: []byte("v")}), testNow); err != nil {
			t.Fatal(err)
		}
	}
	if p.LastStableOffset() != 0 {
		t.Fatalf("LSO %d with the coordinator's transaction open", p.LastStableOffset())
	}
	info.Control = true
	if _, err := p.AppendCoordinator(build(info, batch.EndTxnMarker(true, 2, testNow)), testNow); err != nil {
		t.Fatal(err)
	}
	if p.LastStableOffset() != 3 {
		t.Fatalf("LSO %d after the coordinator's commit marker", p.LastStableOffset())
	}
	info.Control, info.ProducerEpoch = false, 0
	if _, err := p.AppendCoordinator(build(info, &batch.Record{Timestamp: testNow, Key: []byte("k")}), testNow); !errors.Is(err, ErrInvalidProducerEpoch) {
		t.Fatalf("older epoch: %v", err)
	}
}

// TestConcurrentTxnVerificationsShareTheGuard: two produce requests of one
// producer verified at the same time (pipelined, each waiting for the
// coordinator) share the partition's guard, as Kafka's
// maybeCreateVerificationStateEntry returns the existing entry: the second
// verification must not void the first (a spurious INVALID_TXN_STATE;
// issue 13, defect 12).
func TestConcurrentTxnVerificationsShareTheGuard(t *testing.T) {
	p := openPartition(t, filepath.Join(t.TempDir(), "t-0"), testPartitionConfig())
	g1, v1, err1 := p.BeginTxnVerification(7, 0)
	g2, v2, err2 := p.BeginTxnVerification(7, 0)
	if err1 != nil || err2 != nil || !v1 || !v2 {
		t.Fatalf("verifications: %v %v, %v %v", v1, err1, v2, err2)
	}
	if _, _, err := p.AppendHeld(txnBatch(1, 7, 0, 0), testNow, AppendOptions{Guard: g1}); err != nil {
		t.Fatalf("first verified batch: %v", err)
	}
	if _, _, err := p.AppendHeld(txnBatch(1, 7, 0, 1), testNow, AppendOptions{Guard: g2}); err != nil {
		t.Fatalf("second verified batch: %v", err)
	}
	if err := marker(7, 0, 0, false)(p); err != nil {
		t.Fatal(err)
	}
	if _, _, err := p.AppendHeld(txnBatch(1, 7, 0, 2), testNow, AppendOptions{Guard: g2}); !errors.Is(err, ErrInvalidTxnState) {
		t.Fatalf("batch verified before the marker, appended after it: %v", err)
	}
}

// TestLSONeverBelowLogStart: DeleteRecords (or retention) may move the
// log start past the first offset of an open transaction; the LSO then
// follows the log start, as Kafka's UnifiedLog clamps the first unstable
// offset, so no fetch answers an LSO below its log start offset (issue
// 13, defect 12).
func TestLSONeverBelowLogStart(t *testing.T) {
	p := openPartition(t, filepath.Join(t.TempDir(), "t-0"), testPartitionConfig())
	runTxnSteps(t, p, []txnStep{
		{"plain", producePlain(2), 2, nil},                     // 0-1
		{"open a transaction", produceTxn(2, 1, 0, 0), 2, nil}, // 2-3
		{"plain after it", producePlain(6), 2, nil},            // 4-9
	})
	if err := p.Log().DeleteRecordsBefore(6); err != nil {
		t.Fatal(err)
	}
	hw, lso := p.ReadView()
	if lso != 6 || p.LastStableOffset() != 6 || hw != 10 {
		t.Fatalf("after DeleteRecords to 6: hw %d, lso %d (LastStableOffset %d); want 10, 6", hw, lso, p.LastStableOffset())
	}
	if err := marker(1, 0, 0, true)(p); err != nil { // 10
		t.Fatal(err)
	}
	if hw, lso := p.ReadView(); hw != 11 || lso != 11 {
		t.Fatalf("after the commit: hw %d, lso %d; want 11, 11", hw, lso)
	}
}
