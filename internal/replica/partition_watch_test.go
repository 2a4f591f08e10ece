package replica

import (
	"path/filepath"
	"testing"

	"github.com/sluice-io/sluice/internal/storage/storagetest"
)

func TestAppendHeldWakesOnlyOnWake(t *testing.T) {
	p := openPartition(t, filepath.Join(t.TempDir(), "t-0"), testPartitionConfig())
	woken := chanWatcher(make(chan struct{}, 1))
	p.Watch(woken)
	defer p.Unwatch(woken)

	if _, _, err := p.AppendHeld(storagetest.Batch(2, 8, testNow), testNow, AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-woken:
		t.Fatal("AppendHeld woke the watcher before Wake")
	default:
	}
	p.Wake()
	select {
	case <-woken:
	default:
		t.Fatal("Wake did not signal the watcher")
	}

	if _, _, err := p.Append(storagetest.Batch(1, 8, testNow), testNow); err != nil {
		t.Fatal(err)
	}
	select {
	case <-woken:
	default:
		t.Fatal("Append did not signal the watcher")
	}
}

// A watcher may leave from its own Wake (a fetch that has enough unwatches
// every partition it read) and read the partition there: wake calls it
// with no lock held.
func TestWatcherUnwatchesFromWake(t *testing.T) {
	p := openPartition(t, filepath.Join(t.TempDir(), "t-0"), testPartitionConfig())
	w := &leavingWatcher{p: p}
	p.Watch(w)
	for range 2 {
		if _, _, err := p.Append(storagetest.Batch(1, 8, testNow), testNow); err != nil {
			t.Fatal(err)
		}
	}
	if w.calls != 1 || w.seenEnd != 1 {
		t.Fatalf("watcher woken %d times, saw log end %d; want once, at 1", w.calls, w.seenEnd)
	}
}

type leavingWatcher struct {
	p       *Partition
	calls   int
	seenEnd int64
}

func (w *leavingWatcher) Wake() {
	w.calls++
	w.seenEnd = int64(w.p.LogEndOffset())
	w.p.Unwatch(w)
}

// chanWatcher signals a channel with a buffer of one on every wake.
type chanWatcher chan struct{}

func (c chanWatcher) Wake() {
	select {
	case c <- struct{}{}:
	default:
	}
}
