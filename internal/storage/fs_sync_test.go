package storage

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sluice-io/sluice/internal/model"
	"github.com/sluice-io/sluice/internal/storage/storagetest"
)

// heldFSSync is an FSSync whose rounds are counted and, until the test
// ends, block until released.
type heldFSSync struct {
	*FSSync
	free    atomic.Bool // the test is over: rounds run at once (Close syncs)
	rounds  atomic.Int64
	running chan struct{} // one send per round, when it starts
	release chan struct{} // one receive per held round
	fail    atomic.Pointer[error]
}

func newHeldFSSync(t *testing.T, dir string) *heldFSSync {
	t.Helper()
	fss, err := OpenFSSync(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fss.Close() })
	h := &heldFSSync{FSSync: fss, running: make(chan struct{}, 16), release: make(chan struct{})}
	fss.syncfs = func(f *os.File) error {
		if h.free.Load() {
			return syncfs(f)
		}
		h.rounds.Add(1)
		h.running <- struct{}{}
		<-h.release
		if e := h.fail.Load(); e != nil {
			return *e
		}
		return syncfs(f)
	}
	return h
}

func TestFSSyncRoundBegunBeforeCallDoesNotCount(t *testing.T) {
	h := newHeldFSSync(t, t.TempDir())
	first := make(chan error, 1)
	go func() { first <- h.SyncAfter(h.Begun()) }()
	<-h.running // round 1 runs, begun before the calls below

	const late = 8
	lateDone := make(chan error, late)
	for range late {
		go func() { lateDone <- h.SyncAfter(h.Begun()) }()
	}
	waitForWaiters(h.FSSync, late)
	h.release <- struct{}{} // round 1 ends
	if err := <-first; err != nil {
		t.Fatalf("first Sync = %v", err)
	}
	select {
	case err := <-lateDone:
		t.Fatalf("a Sync called during round 1 returned after it (%v); it needs a round begun after the call", err)
	case <-h.running: // one of them starts round 2, covering all
	}
	h.release <- struct{}{}
	for range late {
		if err := <-lateDone; err != nil {
			t.Fatalf("late Sync = %v", err)
		}
	}
	if r := h.rounds.Load(); r != 2 {
		t.Errorf("%d syncfs rounds for 1+%d callers, want 2", r, late)
	}
}

func TestFSSyncErrorIsSticky(t *testing.T) {
	h := newHeldFSSync(t, t.TempDir())
	eio := error(errors.New("input/output error"))
	h.fail.Store(&eio)
	done := make(chan error, 1)
	go func() { done <- h.SyncAfter(h.Begun()) }()
	<-h.running
	h.release <- struct{}{}
	if err := <-done; err == nil || !errors.Is(err, eio) {
		t.Fatalf("Sync = %v, want the syncfs error", err)
	}
	h.fail.Store(nil)
	if err := h.SyncAfter(h.Begun()); !errors.Is(err, eio) {
		t.Fatalf("Sync after a failed round = %v, want the same error (no round: %d)", err, h.rounds.Load())
	}
	if r := h.rounds.Load(); r != 1 {
		t.Errorf("%d rounds, want 1 (a failed file system is not synced again)", r)
	}
}

// createLogs creates n logs in dataDir, closed when the test ends.
func createLogs(t *testing.T, dataDir string, cfg Config, n int) []*Log {
	t.Helper()
	logs := make([]*Log, n)
	for i := range logs {
		l, err := Create(filepath.Join(dataDir, fmt.Sprintf("t-%d", i)), model.NewTopicID(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		logs[i] = l
	}
	return logs
}

// waitForWaiters spins until n callers wait for the running round.
func waitForWaiters(s *FSSync, n int) {
	for {
		s.mu.Lock()
		w := s.waiting
		s.mu.Unlock()
		if w >= n {
			return
		}
		waitABit()
	}
}

func TestLogWithFSSyncSharesOneSyncfsAcrossLogs(t *testing.T) {
	dataDir := t.TempDir()
	h := newHeldFSSync(t, dataDir)
	cfg := testConfig()
	cfg.FSSync = h.FSSync
	var fsyncs atomic.Int64
	logs := createLogs(t, dataDir, cfg, 6)
	for _, l := range logs {
		l.fsync = func(f *os.File) error { fsyncs.Add(1); return fdatasync(f) }
	}
	// Hold a first round so every log's wait queues behind it.
	blocker := make(chan error, 1)
	go func() { blocker <- h.SyncAfter(h.Begun()) }()
	<-h.running

	var wg sync.WaitGroup
	for _, l := range logs {
		base, err := l.Append(storagetest.Batch(3, 100, 0), 0)
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			if err := l.WaitDurable(context.Background(), base+3); err != nil {
				t.Error(err)
			}
		})
	}
	waitForWaiters(h.FSSync, len(logs))
	h.release <- struct{}{}
	<-h.running
	h.release <- struct{}{}
	wg.Wait()
	if err := <-blocker; err != nil {
		t.Fatal(err)
	}
	h.free.Store(true)
	for i, l := range logs {
		if rp := l.RecoveryPoint(); rp != 3 {
			t.Errorf("log %d: RecoveryPoint = %d, want 3", i, rp)
		}
	}
	if r := h.rounds.Load(); r != 2 {
		t.Errorf("%d syncfs rounds for 6 logs waiting together, want 2 (the held one and one shared)", r)
	}
	if f := fsyncs.Load(); f != 0 {
		t.Errorf("%d per-file fsyncs, want none with FSSync", f)
	}
}

func TestLogsWrittenBeforeARoundShareIt(t *testing.T) {
	// One produce over six partitions appends to all six logs, then waits
	// on each in turn: the round the first wait starts covers all six.
	dataDir := t.TempDir()
	fss, err := OpenFSSync(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fss.Close() })
	var rounds atomic.Int64
	fss.syncfs = func(f *os.File) error { rounds.Add(1); return syncfs(f) }
	cfg := testConfig()
	cfg.FSSync = fss
	logs := createLogs(t, dataDir, cfg, 6)
	for _, l := range logs {
		if err := l.Flush(); err != nil { // the new directory's round
			t.Fatal(err)
		}
	}
	// The first produce also writes each log's leader epoch checkpoint
	// (a file replaced, not stamped: it takes a round of its own per log).
	for produce := range 4 {
		before := rounds.Load()
		ends := make([]model.Offset, len(logs))
		for i, l := range logs {
			base, err := l.Append(storagetest.Batch(2, 100, 0), 0)
			if err != nil {
				t.Fatal(err)
			}
			ends[i] = base + 2
		}
		for i, l := range logs {
			if err := l.WaitDurable(context.Background(), ends[i]); err != nil {
				t.Fatal(err)
			}
			if rp := l.RecoveryPoint(); rp != ends[i] {
				t.Fatalf("produce %d, log %d: RecoveryPoint = %d, want %d", produce, i, rp, ends[i])
			}
		}
		if n := rounds.Load() - before; produce > 0 && n != 1 {
			t.Errorf("produce %d: %d syncfs rounds for six logs written before the first, want 1", produce, n)
		}
	}
	// A write after a round still needs a round of its own.
	before := rounds.Load()
	base, err := logs[0].Append(storagetest.Batch(1, 100, 0), 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := logs[0].WaitDurable(context.Background(), base+1); err != nil {
		t.Fatal(err)
	}
	if n := rounds.Load() - before; n != 1 {
		t.Errorf("%d rounds for a write after the last round, want 1", n)
	}
}

func TestLogWithFSSyncClosesRolledIndexes(t *testing.T) {
	fss, err := OpenFSSync(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fss.Close() })
	cfg := testConfig()
	cfg.FSSync = fss
	cfg.SegmentBytes = 1024
	l := newTestLog(t, cfg)
	appendBatches(t, l, 4, 1, 900, 0) // every batch rolls a segment
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	segs := l.segments()
	for _, s := range segs[:len(segs)-1] {
		s.offIdx.mu.Lock()
		open := s.offIdx.file != nil
		s.offIdx.mu.Unlock()
		if open {
			t.Errorf("segment %d: offset index descriptor still open after a sync round", s.base)
		}
	}
	if rp := l.RecoveryPoint(); rp != 4 {
		t.Errorf("RecoveryPoint = %d, want 4", rp)
	}
	l2 := reopen(t, l, cfg)
	if got := len(readAll(t, l2, 0)); got != 4 {
		t.Errorf("%d batches after reopen, want 4", got)
	}
}
