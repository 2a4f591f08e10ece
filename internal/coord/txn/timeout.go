package txn

import (
	"maps"
	"math"
	"slices"

	"github.com/sluice-io/sluice/internal/coord/runtime"
)

const (
	abortTimedOutKey = "abort-timed-out"
	expireKey        = "expire-ids"
)

// scheduleAbortTimedOut arms the periodic abort of timed-out transactions
// (transaction.abort.timed.out.transaction.cleanup.interval.ms).
func (s *shard) scheduleAbortTimedOut(w *runtime.Writer) {
	w.Schedule(abortTimedOutKey, s.opts.AbortTimedOutInterval, func(w *runtime.Writer) {
		s.abortTimedOut(w)
		s.scheduleAbortTimedOut(w)
	})
}

// abortTimedOut aborts every transaction open longer than its
// transaction.timeout.ms, bumping the producer's epoch as Kafka does
// (prepareFenceProducerEpoch): the producer learns of it as
// PRODUCER_FENCED on its next request and its late writes are refused.
func (s *shard) abortTimedOut(w *runtime.Writer) {
	now := w.Now().UnixMilli()
	for _, id := range slices.Sorted(maps.Keys(s.txns)) {
		m := s.txns[id]
		if m.state != Ongoing || m.startMs+int64(m.timeoutMs) > now {
			continue
		}
		s.opts.Logger.Info("aborting timed-out transaction", "transactional_id", id, "producer_id", m.producerID,
			"epoch", m.epoch, "timeout_ms", m.timeoutMs)
		next := m.clone()
		if next.epoch < math.MaxInt16 {
			next.epoch++
		}
		next.lastEpoch, next.state = noEpoch, PrepareAbort
		s.write(w, next)
		s.prepared(w, next)
	}
}

// scheduleExpire arms the periodic removal of expired transactional ids
// (transaction.remove.expired.transaction.cleanup.interval.ms).
func (s *shard) scheduleExpire(w *runtime.Writer) {
	w.Schedule(expireKey, s.opts.RemoveExpiredInterval, func(w *runtime.Writer) {
		s.expire(w)
		s.scheduleExpire(w)
	})
}

// expire forgets the ids without a transaction that have not been used
// for transactional.id.expiration.ms: a tombstone each (Kafka writes the
// same, after an in-memory Dead state).
func (s *shard) expire(w *runtime.Writer) {
	now := w.Now().UnixMilli()
	limit := s.opts.IDExpiration.Milliseconds()
	for _, id := range slices.Sorted(maps.Keys(s.txns)) {
		m := s.txns[id]
		if !m.state.complete() || now-m.updateMs < limit {
			continue
		}
		delete(s.txns, id)
		w.AppendApplied(recordKey(id), nil)
	}
}
