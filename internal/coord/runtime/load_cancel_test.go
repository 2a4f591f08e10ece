package runtime_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluice-io/sluice/internal/batch"
	"github.com/sluice-io/sluice/internal/coord/runtime"
	"github.com/sluice-io/sluice/internal/coord/runtime/runtimetest"
	"github.com/sluice-io/sluice/internal/model"
)

// neverCommits is a log whose writes never commit (a leader whose
// followers are gone under min.insync.replicas).
type neverCommits struct{ *runtimetest.Log }

func (neverCommits) WaitCommitted(ctx context.Context, _ model.Offset) error {
	<-ctx.Done()
	return ctx.Err()
}

// writesOnLoad appends a record when it loads, as the coordinators do.
type writesOnLoad struct{}

func (writesOnLoad) Replay(batch.Header, *batch.Record) error { return nil }
func (writesOnLoad) Loaded(w *runtime.Writer)                 { w.Append([]byte("k"), []byte("v")) }
func (writesOnLoad) Unloaded()                                {}

// A load whose first write cannot commit ends when its context does: it
// held a broker's shutdown forever (found by the cluster tests: a group
// coordinator loading on a broker whose followers had died).
func TestLoadEndsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := runtime.Load(ctx, neverCommits{runtimetest.NewLog()}, writesOnLoad{}, runtime.Options{})
		done <- err
	}()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, runtime.ErrClosed) {
			t.Fatalf("Load ended with %v, want ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Load still waits for its first write after its context ended")
	}
}

// armsTimer arms a timer that appends when it fires, as the coordinators'
// periodic cleanups do; fired counts the firings.
type armsTimer struct{ fired *atomic.Int32 }

func (armsTimer) Replay(batch.Header, *batch.Record) error { return nil }
func (a armsTimer) Loaded(w *runtime.Writer) {
	w.Schedule("tick", time.Millisecond, func(w *runtime.Writer) {
		a.fired.Add(1)
		w.Append([]byte("k"), []byte("tick"))
	})
	w.Append([]byte("k"), []byte("loaded"))
}
func (armsTimer) Unloaded() {}

// A load that fails after Loaded armed timers leaves no shard behind:
// its timers must not fire, or a shard nobody holds writes to the log
// from its own state beside the next load's.
func TestFailedLoadLeavesNoTimers(t *testing.T) {
	log := neverCommits{runtimetest.NewLog()}
	var fired atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := runtime.Load(ctx, log, armsTimer{&fired}, runtime.Options{})
		done <- err
	}()
	cancel() // the first write's wait fails
	if err := <-done; err == nil {
		t.Fatal("the load succeeded")
	}
	n := len(log.Batches())
	time.Sleep(50 * time.Millisecond) // timers of 1 ms would have fired many times: nothing to wait on when they don't
	if fired.Load() != 0 || len(log.Batches()) != n {
		t.Fatalf("after the failed load the timer fired %d times and %d batches were written", fired.Load(), len(log.Batches())-n)
	}
}
