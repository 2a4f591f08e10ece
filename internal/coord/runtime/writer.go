package runtime

import (
	"fmt"
	"time"

	"github.com/sluice-io/sluice/internal/batch"
	"github.com/sluice-io/sluice/internal/model"
)

// Writer is what one operation sees of the runtime: the time, records to
// write, callbacks for when they are durable, and timers. It is valid only
// during the op and, like the state, guarded by the shard's lock.
type Writer struct {
	s    *Shard
	now  time.Time
	recs []pending
	then []func(error)

	// A transactional op (txn.go).
	txn    bool
	pid    model.ProducerID
	epoch  model.ProducerEpoch
	marker *marker
}

type pending struct {
	key, value []byte
	replay     bool
}

// Now is the time of the operation.
func (w *Writer) Now() time.Time { return w.now }

// Append writes a record (a nil value is a tombstone) and replays it into
// the machine once appended, as on load.
func (w *Writer) Append(key, value []byte) {
	w.recs = append(w.recs, pending{key: key, value: value, replay: true})
}

// AppendApplied writes a record that the op has already applied to its
// state itself (Kafka's replayRecords=false: the classic group changes its
// in-memory group and persists a snapshot of it).
func (w *Writer) AppendApplied(key, value []byte) {
	w.recs = append(w.recs, pending{key: key, value: value})
}

// Records is how many records the op has written so far.
func (w *Writer) Records() int { return len(w.recs) }

// Then runs f once everything the op wrote or read is durable (err nil),
// or with the error that stopped the shard. Callbacks answer clients.
func (w *Writer) Then(f func(err error)) { w.then = append(w.then, f) }

// appendLocked writes the op's records as one batch and replays those
// that ask for it.
func (s *Shard) appendLocked(w *Writer) error {
	if len(w.recs) == 0 {
		return s.appendMarkerLocked(w)
	}
	s.builder.Reset(w.batchInfo())
	ts := w.now.UnixMilli()
	for i := range w.recs {
		p := &w.recs[i]
		if err := s.builder.Add(&batch.Record{Timestamp: ts, Key: p.key, Value: p.value}); err != nil {
			return err
		}
	}
	// A fresh buffer per batch: the log may keep the bytes it is given.
	b, err := s.builder.Build(nil)
	if err != nil {
		return err
	}
	base, err := s.log.Append(b)
	if err != nil {
		return fmt.Errorf("append %d records: %w", len(w.recs), err)
	}
	batch.SetBaseOffset(b, int64(base))
	i := 0
	err = batch.Records(b, func(rec *batch.Record) error {
		replay := w.recs[i].replay
		i++
		if !replay {
			return nil
		}
		return s.m.Replay(batch.Header(b), rec)
	})
	if err != nil {
		return err
	}
	return s.appendMarkerLocked(w)
}
