package storage

import (
	"context"
	"errors"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sluice-io/sluice/internal/model"
	"github.com/sluice-io/sluice/internal/storage/storagetest"
)

func TestWaitDurableGroupCommit(t *testing.T) {
	l := newTestLog(t, testConfig())
	var rounds, fsyncs atomic.Int64
	release := make(chan struct{})
	l.onSync = func() {
		if rounds.Add(1) == 1 {
			<-release // hold the first fsync until every append is in
		}
	}
	l.fsync = func(f *os.File) error { fsyncs.Add(1); return fdatasync(f) }
	const waiters = 64
	var appended, done sync.WaitGroup
	appended.Add(waiters)
	done.Add(waiters)
	for range waiters {
		go func() {
			defer done.Done()
			base, err := l.Append(storagetest.Batch(1, 100, 0), 0)
			appended.Done()
			if err != nil {
				t.Error(err)
				return
			}
			if err := l.WaitDurable(context.Background(), base+1); err != nil {
				t.Error(err)
			}
		}()
	}
	appended.Wait()
	close(release)
	done.Wait()
	if l.RecoveryPoint() != waiters {
		t.Errorf("RecoveryPoint = %d, want %d", l.RecoveryPoint(), waiters)
	}
	// One round may have started before all appends; the next covers the rest.
	if r := rounds.Load(); r > 2 {
		t.Errorf("%d sync rounds for %d waiters, want at most 2", r, waiters)
	}
	if f := fsyncs.Load(); f > 4 {
		t.Errorf("%d fsyncs for %d waiters", f, waiters)
	}
}

func TestWaitDurableContextAndRange(t *testing.T) {
	l := newTestLog(t, testConfig())
	release := make(chan struct{})
	var first atomic.Bool
	l.onSync = func() {
		if first.CompareAndSwap(false, true) {
			<-release
		}
	}
	base, _ := l.Append(storagetest.Batch(1, 10, 0), 0)
	syncing := make(chan error)
	go func() { syncing <- l.WaitDurable(context.Background(), base+1) }()
	for !l.isSyncing() {
		waitABit()
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.WaitDurable(ctx, base+1); !errors.Is(err, context.Canceled) {
		t.Errorf("WaitDurable(cancelled) = %v", err)
	}
	close(release)
	if err := <-syncing; err != nil {
		t.Fatal(err)
	}
	if err := l.WaitDurable(context.Background(), base+1); err != nil {
		t.Errorf("WaitDurable on durable data = %v", err)
	}
	if err := l.WaitDurable(context.Background(), 99); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Errorf("WaitDurable past the end = %v", err)
	}
}

func (l *Log) isSyncing() bool {
	l.flush.mu.Lock()
	defer l.flush.mu.Unlock()
	return l.flush.syncing.Load()
}

// waitABit yields while a condition is awaited across goroutines.
func waitABit() { runtime.Gosched() }

func TestFlushMessages(t *testing.T) {
	cfg := testConfig()
	cfg.FlushMessages = 5
	l := newTestLog(t, cfg)
	var rounds atomic.Int64
	l.onSync = func() { rounds.Add(1) }
	for i := range 12 {
		l.Append(storagetest.Batch(1, 10, 0), 0)
		wantRP := model.Offset((i + 1) / 5 * 5)
		if l.RecoveryPoint() != wantRP {
			t.Errorf("after %d appends: RecoveryPoint %d, want %d", i+1, l.RecoveryPoint(), wantRP)
		}
	}
	if rounds.Load() != 2 {
		t.Errorf("%d sync rounds, want 2", rounds.Load())
	}
}

func TestFlushMs(t *testing.T) {
	cfg := testConfig()
	cfg.FlushMs = 5
	l := newTestLog(t, cfg)
	synced := make(chan struct{}, 10)
	l.onSync = func() { synced <- struct{}{} }
	base, _ := l.Append(storagetest.Batch(1, 10, 0), 0)
	<-synced // the timer fired without any waiter
	if err := l.WaitDurable(context.Background(), base+1); err != nil {
		t.Fatal(err)
	}
	if len(synced) != 0 {
		t.Errorf("WaitDurable ran its own round instead of sharing the timer's")
	}
}

func TestFsyncFailureFailsTheLog(t *testing.T) {
	l := newTestLog(t, testConfig())
	boom := errors.New("EIO")
	l.fsync = func(*os.File) error { return boom }
	base, _ := l.Append(storagetest.Batch(1, 10, 0), 0)
	if err := l.WaitDurable(context.Background(), base+1); !errors.Is(err, ErrLogFailed) || !errors.Is(err, boom) {
		t.Errorf("WaitDurable = %v, want ErrLogFailed wrapping the fsync error", err)
	}
	if _, err := l.Append(storagetest.Batch(1, 10, 0), 0); !errors.Is(err, ErrLogFailed) {
		t.Errorf("Append after a failed fsync = %v, want ErrLogFailed", err)
	}
	if c, err := l.Read(0, 100, true); err != nil || c.Empty() {
		t.Errorf("reads keep working: %+v, %v", c, err)
	}
}

func TestWaitDurableAfterTruncation(t *testing.T) {
	l := newTestLog(t, testConfig())
	appendBatches(t, l, 10, 1, 10, 0)
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := l.TruncateTo(4); err != nil {
		t.Fatal(err)
	}
	if l.RecoveryPoint() != 4 {
		t.Errorf("RecoveryPoint after truncation = %d, want 4", l.RecoveryPoint())
	}
	if err := l.WaitDurable(context.Background(), 10); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Errorf("WaitDurable for truncated offsets = %v", err)
	}
}
