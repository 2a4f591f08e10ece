package replica

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/sluice-io/sluice/internal/batch"
	"github.com/sluice-io/sluice/internal/model"
	"github.com/sluice-io/sluice/internal/storage"
)

// Producer state: what the leader of a partition knows about each
// idempotent producer, to de-duplicate retried batches and to reject
// batches out of sequence or from a fenced epoch (KIP-98, with the KIP-360
// relaxations). The rules are Kafka's, from UnifiedLog's
// analyzeAndValidateProducerState and ProducerAppendInfo:
//
//   - a batch whose epoch and exact sequence range match one of the
//     producer's last 5 batches is a duplicate: it is not appended, and the
//     produce answers with the original offsets;
//   - an epoch below the current one is INVALID_PRODUCER_EPOCH (Kafka 2.7+
//     answers produce with it rather than the fatal PRODUCER_FENCED);
//   - a new (higher) epoch must start at sequence 0, unless the producer is
//     unknown; else OUT_OF_ORDER_SEQUENCE_NUMBER;
//   - within an epoch the first sequence must follow the last one (after
//     Int32.MaxValue comes 0); an unknown producer may start anywhere
//     (KIP-360: its state may have been removed by retention or expiry);
//   - a non-transactional batch while the producer has a transaction open
//     is INVALID_TXN_STATE.
//
// This file is pure: no I/O, no locks. Partition serializes calls.

// producerBatchesRetained is Kafka's ProducerStateEntry.NUM_BATCHES_TO_RETAIN:
// the client keeps at most 5 requests in flight per connection, so a retry
// is always one of the last 5 batches.
const producerBatchesRetained = storage.MaxProducerSnapshotBatches

// noProducerEpoch is Kafka's RecordBatch.NO_PRODUCER_EPOCH.
const noProducerEpoch model.ProducerEpoch = -1

// producerBatch is one appended batch of a producer.
type producerBatch struct {
	firstSeq, lastSeq       int32
	firstOffset, lastOffset model.Offset
	timestamp               int64 // the batch's MaxTimestamp
}

// producerEntry is one producer's state.
type producerEntry struct {
	epoch model.ProducerEpoch
	// batches is a ring of the last batches in this epoch: the oldest at
	// head, n valid.
	batches               [producerBatchesRetained]producerBatch
	head, n               int
	lastTimestamp         int64
	coordinatorEpoch      int32
	currentTxnFirstOffset model.Offset // -1: no open transaction
}

// last returns the newest batch; ok is false when there is none.
func (e *producerEntry) last() (producerBatch, bool) {
	if e.n == 0 {
		return producerBatch{}, false
	}
	return e.batches[(e.head+e.n-1)%producerBatchesRetained], true
}

// lastSeq is Kafka's ProducerStateEntry.lastSeq: -1 without batches.
func (e *producerEntry) lastSeq() int32 {
	if b, ok := e.last(); ok {
		return b.lastSeq
	}
	return -1
}

// find returns the retained batch with exactly this sequence range.
func (e *producerEntry) find(firstSeq, lastSeq int32) (producerBatch, bool) {
	for i := range e.n {
		b := e.batches[(e.head+i)%producerBatchesRetained]
		if b.firstSeq == firstSeq && b.lastSeq == lastSeq {
			return b, true
		}
	}
	return producerBatch{}, false
}

// add records a batch at epoch, dropping the batches of an older epoch and
// the oldest one beyond the window (ProducerStateEntry.addBatch).
func (e *producerEntry) add(epoch model.ProducerEpoch, b producerBatch) {
	e.setEpoch(epoch)
	if e.n == producerBatchesRetained {
		e.head = (e.head + 1) % producerBatchesRetained
		e.n--
	}
	e.batches[(e.head+e.n)%producerBatchesRetained] = b
	e.n++
	e.lastTimestamp = b.timestamp
}

// setEpoch moves to epoch; a new epoch forgets the batches of the old one.
func (e *producerEntry) setEpoch(epoch model.ProducerEpoch) {
	if e.epoch != epoch {
		e.epoch = epoch
		e.head, e.n = 0, 0
	}
}

// producerState is the state of every producer of one partition. Not safe
// for concurrent use.
type producerState struct {
	producers map[model.ProducerID]*producerEntry
	// open maps the producers with an open transaction to its first
	// offset (the last stable offset's input, partition_txn.go).
	open map[model.ProducerID]model.Offset
}

func newProducerState() *producerState {
	return &producerState{producers: map[model.ProducerID]*producerEntry{}, open: map[model.ProducerID]model.Offset{}}
}

// producerBatchInfo is what the checks read from a batch header.
type producerBatchInfo struct {
	pid           model.ProducerID
	epoch         model.ProducerEpoch
	firstSeq      int32
	lastSeq       int32
	transactional bool
}

// lastSequence is Kafka's DefaultRecordBatch.incrementSequence: sequences
// wrap from Int32.MaxValue to 0.
func lastSequence(baseSeq, lastOffsetDelta int32) int32 {
	if baseSeq > math.MaxInt32-lastOffsetDelta {
		return lastOffsetDelta - (math.MaxInt32 - baseSeq) - 1
	}
	return baseSeq + lastOffsetDelta
}

// inSequence reports whether next follows last (ProducerAppendInfo.inSequence).
func inSequence(last, next int32) bool {
	return int64(next) == int64(last)+1 || (next == 0 && last == math.MaxInt32)
}

// check validates a batch from a client before it is appended. It returns
// the original batch when the batch is a duplicate (it must then not be
// appended), or the error for a batch that must be rejected.
func (s *producerState) check(b producerBatchInfo) (dup producerBatch, isDup bool, err error) {
	if b.firstSeq < 0 {
		return producerBatch{}, false, fmt.Errorf("%w: sequence number %d in a batch of producer %d",
			batch.ErrInvalid, b.firstSeq, b.pid)
	}
	e := s.producers[b.pid]
	if e == nil {
		return producerBatch{}, false, nil // unknown producer: any epoch, any sequence (KIP-360)
	}
	if b.epoch == e.epoch {
		if d, ok := e.find(b.firstSeq, b.lastSeq); ok {
			return d, true, nil
		}
	}
	if b.epoch < e.epoch {
		return producerBatch{}, false, fmt.Errorf("%w: epoch of producer %d is %d, older than the current epoch %d",
			ErrInvalidProducerEpoch, b.pid, b.epoch, e.epoch)
	}
	if b.epoch != e.epoch {
		if b.firstSeq != 0 && e.epoch != noProducerEpoch {
			return producerBatch{}, false, fmt.Errorf("%w: new epoch %d of producer %d starts at sequence %d, not 0",
				ErrOutOfOrderSequence, b.epoch, b.pid, b.firstSeq)
		}
	} else if e.epoch != noProducerEpoch && !inSequence(e.lastSeq(), b.firstSeq) {
		return producerBatch{}, false, fmt.Errorf("%w: producer %d sent sequence %d after %d",
			ErrOutOfOrderSequence, b.pid, b.firstSeq, e.lastSeq())
	}
	if e.currentTxnFirstOffset >= 0 && !b.transactional {
		return producerBatch{}, false, fmt.Errorf("%w: producer %d wrote a non-transactional batch inside its transaction",
			ErrInvalidTxnState, b.pid)
	}
	return producerBatch{}, false, nil
}

// update records an appended data batch (after check, or replayed from
// the log, where nothing is checked: ProducerAppendInfo with origin
// REPLICATION). A transactional batch opens the producer's transaction.
func (s *producerState) update(b producerBatchInfo, first, last model.Offset, timestamp int64) {
	e := s.producers[b.pid]
	if e == nil {
		e = &producerEntry{epoch: noProducerEpoch, coordinatorEpoch: -1, currentTxnFirstOffset: -1}
		s.producers[b.pid] = e
	}
	e.add(b.epoch, producerBatch{firstSeq: b.firstSeq, lastSeq: b.lastSeq, firstOffset: first, lastOffset: last, timestamp: timestamp})
	if b.transactional && e.currentTxnFirstOffset < 0 {
		e.currentTxnFirstOffset = first
		s.open[b.pid] = first
	}
}

// endTxn records a replayed transaction marker of pid at epoch: the open
// transaction ends. TODO(#4): the coordinator epoch is in the marker's
// record value; the transaction helper reads it and checks it on append.
func (s *producerState) endTxn(pid model.ProducerID, epoch model.ProducerEpoch, timestamp int64) {
	e := s.producers[pid]
	if e == nil {
		e = &producerEntry{epoch: noProducerEpoch, coordinatorEpoch: -1}
		s.producers[pid] = e
	}
	e.setEpoch(epoch)
	e.currentTxnFirstOffset = -1
	delete(s.open, pid)
	e.lastTimestamp = timestamp
}

// expire drops the producers idle for at least expirationMs, measured by
// their last batch timestamp, that have no open transaction (Kafka's
// removeExpiredProducers, producer.id.expiration.ms). It returns how many
// went.
func (s *producerState) expire(nowMs, expirationMs int64) int {
	n := 0
	for pid, e := range s.producers {
		if e.currentTxnFirstOffset < 0 && nowMs-e.lastTimestamp >= expirationMs {
			delete(s.producers, pid)
			n++
		}
	}
	return n
}

// snapshot returns every producer as snapshot entries, by producer id.
func (s *producerState) snapshot() []storage.ProducerSnapshotEntry {
	out := make([]storage.ProducerSnapshotEntry, 0, len(s.producers))
	for pid, e := range s.producers {
		se := storage.ProducerSnapshotEntry{ProducerID: pid, Epoch: e.epoch, CoordinatorEpoch: e.coordinatorEpoch,
			CurrentTxnFirstOffset: e.currentTxnFirstOffset, LastTimestamp: e.lastTimestamp,
			Batches: make([]storage.ProducerSnapshotBatch, e.n)}
		for i := range e.n {
			b := e.batches[(e.head+i)%producerBatchesRetained]
			se.Batches[i] = storage.ProducerSnapshotBatch{FirstSeq: b.firstSeq, LastSeq: b.lastSeq,
				FirstOffset: b.firstOffset, LastOffset: b.lastOffset, Timestamp: b.timestamp}
		}
		out = append(out, se)
	}
	slices.SortFunc(out, func(a, b storage.ProducerSnapshotEntry) int { return cmp.Compare(a.ProducerID, b.ProducerID) })
	return out
}

// restore loads snapshot entries, skipping producers already expired at
// nowMs (Kafka's loadFromSnapshot does the same).
func (s *producerState) restore(entries []storage.ProducerSnapshotEntry, nowMs, expirationMs int64) {
	for _, se := range entries {
		if se.CurrentTxnFirstOffset < 0 && nowMs-se.LastTimestamp >= expirationMs {
			continue
		}
		e := &producerEntry{epoch: se.Epoch, coordinatorEpoch: se.CoordinatorEpoch,
			currentTxnFirstOffset: se.CurrentTxnFirstOffset}
		for _, b := range se.Batches[max(0, len(se.Batches)-producerBatchesRetained):] {
			e.add(se.Epoch, producerBatch{firstSeq: b.FirstSeq, lastSeq: b.LastSeq,
				firstOffset: b.FirstOffset, lastOffset: b.LastOffset, timestamp: b.Timestamp})
		}
		e.lastTimestamp = se.LastTimestamp
		s.producers[se.ProducerID] = e
		if se.CurrentTxnFirstOffset >= 0 {
			s.open[se.ProducerID] = se.CurrentTxnFirstOffset
		}
	}
}
