package runtime_test

import (
	"context"
	"errors"
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
