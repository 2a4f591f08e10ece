package storagetest

import (
	"encoding/binary"

	"github.com/sluice-io/sluice/internal/batch"
)

// Idempotent returns a batch of n records from producer pid at epoch
// with base sequence seq, as an idempotent producer sends it.
func Idempotent(n int, pid int64, epoch int16, seq int32, ts int64) []byte {
	return SetProducer(Build(Spec{Records: n, FirstTimestamp: ts}), pid, epoch, seq)
}

// SetProducer writes the producer id, epoch and base sequence into b's
// header and recomputes its CRC. It returns b.
func SetProducer(b []byte, pid int64, epoch int16, seq int32) []byte {
	be := binary.BigEndian
	be.PutUint64(b[43:], uint64(pid))
	be.PutUint16(b[51:], uint16(epoch))
	be.PutUint32(b[53:], uint32(seq))
	be.PutUint32(b[17:], batch.ComputeCRC(b))
	return b
}

// SetTransactional sets or clears the transactional attribute of b and
// recomputes its CRC. It returns b.
func SetTransactional(b []byte, on bool) []byte {
	be := binary.BigEndian
	attrs := be.Uint16(b[21:]) &^ batch.TransactionalBit
	if on {
		attrs |= batch.TransactionalBit
	}
	be.PutUint16(b[21:], attrs)
	be.PutUint32(b[17:], batch.ComputeCRC(b))
	return b
}
