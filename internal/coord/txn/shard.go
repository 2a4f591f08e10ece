package txn

import (
	"fmt"
	"maps"
	"slices"

	"github.com/sluice-io/sluice/internal/batch"
	"github.com/sluice-io/sluice/internal/coord/runtime"
)

// shard is the state of one __transaction_state partition: the
// transactional ids that hash to it. It is the runtime.Machine of that
// partition; every method runs under the runtime shard's lock.
type shard struct {
	opts       *Options
	partition  int32
	coordEpoch int32 // the partition's leader epoch: markers carry it
	txns       map[string]*meta
	// done holds, per transactional id in PrepareCommit or PrepareAbort,
	// a channel closed once its markers are written (or the shard
	// unloads): EndTxn and InitProducerId wait on it.
	done map[string]chan struct{}
	// onPrepared starts writing the markers of a transaction whose
	// PrepareCommit or PrepareAbort record is durable.
	onPrepared func(m *meta)
}

func newShard(opts *Options, partition, coordEpoch int32, onPrepared func(*meta)) *shard {
	return &shard{opts: opts, partition: partition, coordEpoch: coordEpoch, txns: map[string]*meta{},
		done: map[string]chan struct{}{}, onPrepared: onPrepared}
}

// Replay applies one __transaction_state record; a null value removes
// the id.
func (s *shard) Replay(_ batch.Header, rec *batch.Record) error {
	id, m, err := decodeRecord(rec.Key, rec.Value)
	if err != nil {
		return err
	}
	if m == nil {
		delete(s.txns, id)
		return nil
	}
	if m.state == Dead || m.state == PrepareEpochFence {
		return fmt.Errorf("transaction %q: state %s is never written", id, m.state)
	}
	s.txns[id] = m
	return nil
}

// Loaded arms the timers and finishes every transaction that was
// preparing when the previous coordinator stopped: its outcome is
// decided, its markers are written again.
func (s *shard) Loaded(w *runtime.Writer) {
	for _, id := range slices.Sorted(maps.Keys(s.txns)) {
		if m := s.txns[id]; m.state.preparing() {
			s.prepared(w, m)
		}
	}
	s.scheduleAbortTimedOut(w)
	s.scheduleExpire(w)
}

// Unloaded releases every waiter: this broker no longer coordinates the
// partition.
func (s *shard) Unloaded() {
	for id, ch := range s.done {
		close(ch)
		delete(s.done, id)
	}
}

// write makes m the id's state and writes its record.
func (s *shard) write(w *runtime.Writer, m *meta) {
	m.updateMs = w.Now().UnixMilli()
	s.txns[m.id] = m
	w.AppendApplied(recordKey(m.id), recordValue(m))
}

// prepared registers a transaction that entered PrepareCommit or
// PrepareAbort: once that record is durable its markers are written.
func (s *shard) prepared(w *runtime.Writer, m *meta) chan struct{} {
	ch := s.done[m.id]
	if ch == nil {
		ch = make(chan struct{})
		s.done[m.id] = ch
	}
	w.Then(func(err error) {
		if err == nil {
			s.onPrepared(m)
		}
	})
	return ch
}

// complete moves a transaction whose markers are written from m, the
// Prepare state they were written for, to CompleteCommit or
// CompleteAbort. Under TV2 an exhausted epoch moves to the next producer
// id here.
func (s *shard) complete(w *runtime.Writer, m *meta) {
	if s.txns[m.id] != m {
		return // replaced meanwhile (the shard reloaded): that one completes itself
	}
	next := m.clone()
	next.state = CompleteCommit
	if m.state == PrepareAbort {
		next.state = CompleteAbort
	}
	clear(next.partitions)
	if next.nextProducerID != noProducerID {
		next.prevProducerID, next.producerID, next.epoch = m.producerID, m.nextProducerID, 0
		next.nextProducerID = noProducerID
	}
	s.write(w, next)
	if ch := s.done[m.id]; ch != nil {
		close(ch)
		delete(s.done, m.id)
	}
}
