package runtime

import (
	"encoding/binary"
	"fmt"

	"github.com/sluice-io/sluice/internal/batch"
	"github.com/sluice-io/sluice/internal/model"
)

// Transactions in a coordinator partition (KIP-98, KIP-447): the group
// coordinator writes a transactional offset commit as a transactional
// batch of the producer, and ends it with the COMMIT or ABORT marker the
// transaction coordinator asks for. Markers are control batches; a
// Machine that implements MarkerReplayer sees them, on load and when an op
// writes one.

// MarkerReplayer is a Machine that replays transaction markers.
type MarkerReplayer interface {
	// ReplayMarker applies the marker of batch h (its producer id and
	// epoch are the header's), written by the transaction coordinator of
	// coordinatorEpoch: the producer's transaction commits or aborts.
	ReplayMarker(h batch.Header, commit bool, coordinatorEpoch int32) error
}

// marker is a transaction marker an op writes.
type marker struct {
	pid              model.ProducerID
	epoch            model.ProducerEpoch
	coordinatorEpoch int32
	commit           bool
}

// Transactional makes the op's records one transactional batch of the
// producer pid at epoch (a TxnOffsetCommit).
func (w *Writer) Transactional(pid model.ProducerID, epoch model.ProducerEpoch) {
	w.txn, w.pid, w.epoch = true, pid, epoch
}

// AppendMarker writes a COMMIT or ABORT marker for the producer after the
// op's records, as a control batch of its own, and replays it into the
// machine once appended.
func (w *Writer) AppendMarker(pid model.ProducerID, epoch model.ProducerEpoch, coordinatorEpoch int32, commit bool) {
	w.marker = &marker{pid: pid, epoch: epoch, coordinatorEpoch: coordinatorEpoch, commit: commit}
}

// batchInfo is the header of the op's record batch.
func (w *Writer) batchInfo() batch.BatchInfo {
	info := batch.NewBatchInfo(batch.CodecNone)
	if w.txn {
		info.Transactional = true
		info.ProducerID, info.ProducerEpoch, info.BaseSequence = int64(w.pid), int16(w.epoch), 0
	}
	return info
}

// appendMarkerLocked writes the op's marker, if any, and replays it.
func (s *Shard) appendMarkerLocked(w *Writer) error {
	m := w.marker
	if m == nil {
		return nil
	}
	info := batch.NewBatchInfo(batch.CodecNone)
	info.Control, info.Transactional = true, true
	info.ProducerID, info.ProducerEpoch = int64(m.pid), int16(m.epoch)
	s.builder.Reset(info)
	if err := s.builder.Add(batch.EndTxnMarker(m.commit, m.coordinatorEpoch, w.now.UnixMilli())); err != nil {
		return err
	}
	b, err := s.builder.Build(nil)
	if err != nil {
		return err
	}
	base, err := s.log.Append(b)
	if err != nil {
		return fmt.Errorf("append transaction marker: %w", err)
	}
	batch.SetBaseOffset(b, int64(base))
	if mr, ok := s.m.(MarkerReplayer); ok {
		return mr.ReplayMarker(batch.Header(b), m.commit, m.coordinatorEpoch)
	}
	return nil
}

// replayControl hands a control batch read on load to the machine.
func replayControl(r *batch.Reader, b []byte, m Machine) error {
	mr, ok := m.(MarkerReplayer)
	h := batch.Header(b)
	if !ok || h.ProducerID() < 0 {
		return nil
	}
	return r.Records(b, func(rec *batch.Record) error {
		typ, err := batch.ControlType(rec.Key)
		if err != nil || (typ != batch.ControlCommit && typ != batch.ControlAbort) {
			return err // other control records (none in coordinator partitions) are skipped
		}
		coordinatorEpoch := int32(-1)
		if len(rec.Value) >= 6 {
			coordinatorEpoch = int32(binary.BigEndian.Uint32(rec.Value[2:]))
		}
		return mr.ReplayMarker(h, typ == batch.ControlCommit, coordinatorEpoch)
	})
}
