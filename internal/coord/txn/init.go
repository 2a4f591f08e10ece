package txn

import (
	"math"

	"github.com/sluice-io/sluice/internal/coord/runtime"
	"github.com/sluice-io/sluice/internal/model"
)

// initReq is an InitProducerId for a transactional id.
type initReq struct {
	id        string
	timeoutMs int32
	pid       model.ProducerID // KIP-360: the producer's current id and epoch, or -1
	epoch     model.ProducerEpoch
}

// opResult is what a coordinator op answers: a code, the producer id and
// epoch for the client, and what the caller must do next.
type opResult struct {
	code  int16
	pid   model.ProducerID
	epoch model.ProducerEpoch
	// needPID: run the op again with a fresh producer id.
	needPID bool
	// wait, when set, is closed once the transaction's markers are
	// written: the answer waits for it (bounded).
	wait chan struct{}
}

// initProducerID is Kafka's TransactionCoordinator.handleInitProducerId
// for a transactional id: a new id gets a producer id at epoch 0; a known
// one gets its epoch bumped, which fences older producers; an ongoing
// transaction is aborted first (the answer is CONCURRENT_TRANSACTIONS and
// the client retries); an exhausted epoch moves to a new producer id;
// with the producer's id and epoch (KIP-360) a retry of a bump that
// succeeded gets the same epoch again and a fenced producer
// PRODUCER_FENCED. newPID is a fresh producer id, or -1.
func (s *shard) initProducerID(w *runtime.Writer, r initReq, newPID model.ProducerID) opResult {
	m := s.txns[r.id]
	if m == nil {
		if newPID < 0 {
			return opResult{needPID: true}
		}
		m = &meta{id: r.id, producerID: newPID, prevProducerID: noProducerID, nextProducerID: noProducerID,
			epoch: noEpoch, lastEpoch: noEpoch, timeoutMs: r.timeoutMs, state: Empty, startMs: -1}
		newPID = -1
	}
	if r.pid >= 0 && !(m.epoch == noEpoch || r.pid == m.producerID ||
		(r.pid == m.prevProducerID && epochExhausted(r.epoch))) {
		return opResult{code: codeProducerFenced}
	}
	switch {
	case m.state.preparing():
		return opResult{code: codeConcurrentTransactions, wait: s.done[r.id]}
	case m.state == Ongoing:
		// Fence: abort with a bumped epoch, so the old producer's writes
		// fail, then let the client retry for its own bump.
		next := m.clone()
		if next.epoch < math.MaxInt16 {
			next.epoch++
		}
		next.lastEpoch, next.state = noEpoch, PrepareAbort
		s.write(w, next)
		return opResult{code: codeConcurrentTransactions, wait: s.prepared(w, next)}
	case !m.state.complete():
		return opResult{code: codeConcurrentTransactions}
	}
	next := m.clone()
	if epochExhausted(m.epoch) && (r.pid < 0 || r.epoch == m.epoch) {
		if newPID < 0 {
			return opResult{needPID: true}
		}
		// Kafka's prepareProducerIdRotation.
		next.prevProducerID, next.producerID, next.epoch, next.lastEpoch = m.producerID, newPID, 0, noEpoch
		if r.pid >= 0 {
			next.lastEpoch = m.epoch
		}
	} else {
		// Kafka's prepareIncrementProducerEpoch.
		switch {
		case r.pid < 0:
			next.epoch, next.lastEpoch = m.epoch+1, noEpoch
		case m.epoch == noEpoch || r.epoch == m.epoch:
			next.epoch, next.lastEpoch = m.epoch+1, m.epoch
		case r.epoch == m.lastEpoch:
			// A retry of a bump that succeeded: the same epoch again.
		default:
			return opResult{code: codeProducerFenced}
		}
	}
	next.state, next.timeoutMs, next.startMs = Empty, r.timeoutMs, -1
	clear(next.partitions)
	s.write(w, next)
	return opResult{pid: next.producerID, epoch: next.epoch}
}
