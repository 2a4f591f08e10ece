package runtimetest

import (
	"context"
	"errors"
	"sync"

	"github.com/sluice-io/sluice/internal/batch"
	"github.com/sluice-io/sluice/internal/model"
)

// Log is an in-memory runtime.Log. Safe for concurrent use.
type Log struct {
	mu      sync.Mutex
	batches [][]byte      // guarded by mu
	end     model.Offset  // guarded by mu
	durable model.Offset  // guarded by mu
	hold    bool          // guarded by mu: durability waits until Release
	failErr error         // guarded by mu
	synced  chan struct{} // guarded by mu: closed and replaced when durable moves
}

// NewLog returns an empty log whose appends are durable at once.
func NewLog() *Log { return &Log{synced: make(chan struct{})} }

// Append stores a copy of b with offsets from the log end.
func (l *Log) Append(b []byte) (model.Offset, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failErr != nil {
		return 0, l.failErr
	}
	c := append([]byte(nil), b...)
	base := l.end
	batch.SetBaseOffset(c, int64(base))
	l.batches = append(l.batches, c)
	l.end = model.Offset(batch.Header(c).NextOffset())
	if !l.hold {
		l.syncLocked()
	}
	return base, nil
}

// ReadBatches appends the batches that end past from.
func (l *Log) ReadBatches(dst []byte, from model.Offset, maxBytes int) ([]byte, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, b := range l.batches {
		if model.Offset(batch.Header(b).NextOffset()) <= from {
			continue
		}
		if n > 0 && n+len(b) > maxBytes {
			break
		}
		dst = append(dst, b...)
		n += len(b)
	}
	return dst, nil
}

// LogStartOffset is 0: nothing is ever removed.
func (l *Log) LogStartOffset() model.Offset { return 0 }

// LogEndOffset is the offset the next batch gets.
func (l *Log) LogEndOffset() model.Offset {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.end
}

// WaitCommitted blocks until end is durable (see Hold) or ctx ends.
func (l *Log) WaitCommitted(ctx context.Context, end model.Offset) error {
	for {
		l.mu.Lock()
		if l.durable >= end {
			l.mu.Unlock()
			return nil
		}
		ch := l.synced
		l.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Hold makes appends wait for Release before they are durable.
func (l *Log) Hold() {
	l.mu.Lock()
	l.hold = true
	l.mu.Unlock()
}

// Release makes everything appended durable and ends Hold.
func (l *Log) Release() {
	l.mu.Lock()
	l.hold = false
	l.syncLocked()
	l.mu.Unlock()
}

// FailAppends makes every later Append fail with err (nil: succeed again).
func (l *Log) FailAppends(err error) {
	l.mu.Lock()
	l.failErr = err
	l.mu.Unlock()
}

// ErrInjected is a ready error for FailAppends.
var ErrInjected = errors.New("injected append failure")

// Batches returns a copy of the stored batches.
func (l *Log) Batches() [][]byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([][]byte(nil), l.batches...)
}

func (l *Log) syncLocked() {
	if l.durable == l.end {
		return
	}
	l.durable = l.end
	close(l.synced)
	l.synced = make(chan struct{})
}
