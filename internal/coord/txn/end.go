package txn

import (
	"math"

	"github.com/sluice-io/sluice/internal/coord/runtime"
	"github.com/sluice-io/sluice/internal/model"
)

// endReq is an EndTxn.
type endReq struct {
	id     string
	pid    model.ProducerID
	epoch  model.ProducerEpoch
	commit bool
	tv2    bool // EndTxn v5+: transactions v2, the epoch bumps every time (KIP-890 part 2)
}

// endTxn is Kafka's TransactionCoordinator.endTransaction from a client:
// an ongoing transaction moves to PrepareCommit or PrepareAbort (the
// outcome is decided once that record is durable) and its markers are
// written; retries of a completed EndTxn with the same outcome succeed.
// Under TV2 the prepare bumps the epoch (a new producer id when it ran
// out: newPID, or needPID), and an abort needs no open transaction.
func (s *shard) endTxn(w *runtime.Writer, r endReq, newPID model.ProducerID) opResult {
	m := s.txns[r.id]
	if m == nil {
		return opResult{code: codeInvalidProducerIDMap}
	}
	retry := r.tv2 && m.state.complete() && m.state != Empty &&
		((r.pid == m.producerID && r.epoch < math.MaxInt16 && m.epoch == r.epoch+1) ||
			(r.pid == m.prevProducerID && m.epoch == 0 && epochExhausted(r.epoch)))
	switch {
	case r.pid != m.producerID && !retry:
		return opResult{code: codeInvalidProducerIDMap}
	case r.epoch != m.epoch && !retry:
		return opResult{code: codeProducerFenced}
	}
	ok := opResult{pid: m.producerID, epoch: m.epoch}
	wantDone := CompleteAbort
	if r.commit {
		wantDone = CompleteCommit
	}
	switch m.state {
	case Ongoing:
		return s.prepare(w, m, r, newPID)
	case CompleteCommit, CompleteAbort:
		switch {
		case m.state == wantDone && (retry || !r.tv2):
			return ok
		case r.tv2 && !r.commit && !retry:
			return s.prepare(w, m, r, newPID) // an empty abort (KIP-890)
		}
		return opResult{code: codeInvalidTxnState}
	case Empty:
		if r.tv2 && !r.commit {
			return s.prepare(w, m, r, newPID)
		}
		return opResult{code: codeInvalidTxnState}
	case PrepareCommit, PrepareAbort:
		if (m.state == PrepareCommit) == r.commit {
			return opResult{code: codeConcurrentTransactions, wait: s.done[r.id]}
		}
		return opResult{code: codeInvalidTxnState}
	}
	return opResult{code: codeConcurrentTransactions}
}

// prepare writes PrepareCommit or PrepareAbort; the markers follow once
// it is durable. The result's wait ends when they are written.
func (s *shard) prepare(w *runtime.Writer, m *meta, r endReq, newPID model.ProducerID) opResult {
	next := m.clone()
	next.state = PrepareAbort
	if r.commit {
		next.state = PrepareCommit
	}
	if r.tv2 {
		if epochExhausted(m.epoch) {
			if newPID < 0 {
				return opResult{needPID: true}
			}
			next.nextProducerID = newPID
		}
		next.tv, next.epoch, next.lastEpoch = 2, m.epoch+1, m.epoch
		if m.state != Ongoing {
			next.startMs = w.Now().UnixMilli() // an empty abort: the transaction starts and ends now
		}
	}
	s.write(w, next)
	res := opResult{pid: next.producerID, epoch: next.epoch, wait: s.prepared(w, next)}
	if next.nextProducerID != noProducerID {
		res.pid, res.epoch = next.nextProducerID, 0
	}
	return res
}
