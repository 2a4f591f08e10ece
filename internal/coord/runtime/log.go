package runtime

import (
	"context"
	"time"

	"github.com/sluice-io/sluice/internal/batch"
	"github.com/sluice-io/sluice/internal/model"
)

// Log is the partition a shard keeps its records in. The coordinator
// adapts a *replica.Partition to it; tests use runtimetest.Log. A Log must
// be safe for concurrent use.
type Log interface {
	// Append writes one batch (offsets are assigned by the log) and
	// returns its base offset.
	Append(b []byte) (model.Offset, error)
	// ReadBatches appends to dst whole batches from the one holding from
	// on, about maxBytes of them but at least one when any exists.
	ReadBatches(dst []byte, from model.Offset, maxBytes int) ([]byte, error)
	LogStartOffset() model.Offset
	LogEndOffset() model.Offset
	// WaitCommitted blocks until every offset below end is committed:
	// held by every in-sync replica and fsynced (acks=all).
	WaitCommitted(ctx context.Context, end model.Offset) error
}

// Machine is a coordinator's state. Its methods are called with the
// shard's lock held, never concurrently.
type Machine interface {
	// Replay applies one data record of the partition: on load, and for
	// the records an op appends with Writer.Append. h is the header of
	// the record's batch; rec and its slices are valid only during the
	// call. An error stops the load (a corrupt partition).
	Replay(h batch.Header, rec *batch.Record) error
	// Loaded is the shard's first operation, after the replay: arm
	// timers, fix up state.
	Loaded(w *Writer)
	// Unloaded is the shard's last call (Close, or a failed write):
	// answer every request still waiting. No op runs after it.
	Unloaded()
}

// Clock is the time a shard reads and arms timers with.
type Clock interface {
	Now() time.Time
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is an armed Clock.AfterFunc.
type Timer interface {
	// Stop prevents the timer from firing; it reports whether it did.
	Stop() bool
}

// SystemClock is the wall clock.
type SystemClock struct{}

// Now is time.Now.
func (SystemClock) Now() time.Time { return time.Now() }

// AfterFunc is time.AfterFunc.
func (SystemClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }
