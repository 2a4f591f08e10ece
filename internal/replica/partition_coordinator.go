package replica

import (
	"fmt"

	"github.com/sluice-io/sluice/internal/batch"
	"github.com/sluice-io/sluice/internal/model"
)

// AppendCoordinator appends a batch that a coordinator built for its
// internal partition (Kafka's AppendOrigin.COORDINATOR): a control batch
// is a transaction marker (the group coordinator completing transactional
// offset commits); a transactional batch (TxnOffsetCommit records) is
// checked for its producer epoch only, as coordinators write no sequence
// numbers, and opens the producer's transaction like a produced one; any
// other batch is appended as Append would. Every coordinator append is
// acks=all: refused while the ISR is under the min ISR.
func (p *Partition) AppendCoordinator(b []byte, nowMs int64) (model.Offset, error) {
	h, err := batch.Validate(b)
	if err != nil {
		return -1, err
	}
	switch {
	case h.IsControl():
		m, err := parseMarker(b)
		if err != nil {
			return -1, err
		}
		return p.appendMarker(b, m, nowMs)
	case h.ProducerID() < 0:
		base, _, err := p.AppendHeld(b, nowMs, AppendOptions{AcksAll: true})
		if err == nil {
			p.wake()
		}
		return base, err
	}
	base, err := p.appendCoordinatorTxn(b, h, nowMs)
	if base >= 0 {
		p.wake()
	}
	return base, err
}

func (p *Partition) appendCoordinatorTxn(b []byte, h batch.Header, nowMs int64) (model.Offset, error) {
	info := batchProducerInfo(h)
	p.appendMu.Lock()
	defer p.unlockAppend()
	if err := p.checkLeaderLocked(true); err != nil {
		return -1, err
	}
	st, err := p.producersLocked(nowMs)
	if err != nil {
		return -1, err
	}
	if e := st.producers[info.pid]; e != nil && info.epoch < e.epoch {
		return -1, fmt.Errorf("%w: coordinator batch of producer %d at epoch %d, current epoch %d",
			ErrInvalidProducerEpoch, info.pid, info.epoch, e.epoch)
	}
	base, err := p.log.Append(b, p.LeaderEpoch())
	if base < 0 {
		return -1, err
	}
	st.update(info, base, base+model.Offset(h.LastOffsetDelta()), h.MaxTimestamp())
	p.noteOpenLocked(st)
	p.publishLocked(nowMs)
	p.snapshotIfRolledLocked()
	return base, err
}
