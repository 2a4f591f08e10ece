package txn

import (
	"github.com/sluice-io/sluice/internal/coord/runtime"
	"github.com/sluice-io/sluice/internal/model"
)

// addReq adds partitions to (or, verifyOnly, checks them against) a
// producer's transaction.
type addReq struct {
	id         string
	pid        model.ProducerID
	epoch      model.ProducerEpoch
	partitions []model.TopicPartition
	verifyOnly bool
}

// checkProducer is the common check of a request from a transactional
// producer: its id must be the one's id holds and its epoch the current
// one, and no transaction may be completing.
func (s *shard) checkProducer(id string, pid model.ProducerID, epoch model.ProducerEpoch) (*meta, int16) {
	m := s.txns[id]
	switch {
	case m == nil || m.producerID != pid:
		return nil, codeInvalidProducerIDMap
	case m.epoch != epoch:
		return nil, codeProducerFenced
	case !m.state.complete() && m.state != Ongoing:
		return nil, codeConcurrentTransactions
	}
	return m, 0
}

// addPartitions is Kafka's handleAddPartitionsToTransaction (and
// AddOffsetsToTxn, whose partition is the group's __consumer_offsets
// one): the partitions join the producer's transaction, which starts if
// none was open; nothing is written when they are all in it already. With
// verifyOnly (AddPartitionsToTxn v4+ from a partition leader, KIP-890) it
// only answers, per partition, whether the partition is in the ongoing
// transaction (TRANSACTION_ABORTABLE when not).
func (s *shard) addPartitions(w *runtime.Writer, r addReq) (code int16, perPartition []int16) {
	m, code := s.checkProducer(r.id, r.pid, r.epoch)
	if code != 0 {
		return code, nil
	}
	if r.verifyOnly {
		perPartition = make([]int16, len(r.partitions))
		for i, tp := range r.partitions {
			if _, ok := m.partitions[tp]; !ok || m.state != Ongoing {
				perPartition[i] = codeTransactionAbortable
			}
		}
		return 0, perPartition
	}
	missing := m.state != Ongoing
	for _, tp := range r.partitions {
		if _, ok := m.partitions[tp]; !ok {
			missing = true
			break
		}
	}
	if !missing {
		return 0, nil
	}
	next := m.clone()
	if m.state != Ongoing {
		next.state, next.startMs = Ongoing, w.Now().UnixMilli()
	}
	for _, tp := range r.partitions {
		next.partitions[tp] = struct{}{}
	}
	s.write(w, next)
	return 0, nil
}
