package replica

import (
	"errors"

	"github.com/sluice-io/sluice/internal/batch"
	"github.com/sluice-io/sluice/internal/model"
)

// errFound stops a record walk.
var errFound = errors.New("found")

// OffsetForTimestamp answers ListOffsets for a timestamp as Kafka does:
// the first record at or after the log start whose timestamp is >= ts,
// with that record's timestamp. The log finds the batch; the records of
// that one batch are read to find the record.
func (p *Partition) OffsetForTimestamp(ts int64) (model.Offset, int64, bool) {
	off, batchTs, ok := p.log.OffsetForTimestamp(ts)
	if !ok {
		return -1, -1, false
	}
	if rOff, rTs, ok := p.firstRecord(off, func(r *batch.Record) bool { return r.Timestamp >= ts }); ok {
		return rOff, rTs, true
	}
	return off, batchTs, true
}

// MaxTimestamp answers ListOffsets -3 (KIP-734): the first record carrying
// the largest timestamp.
func (p *Partition) MaxTimestamp() (model.Offset, int64) {
	off, ts := p.log.MaxTimestamp()
	if off < 0 {
		return off, ts
	}
	if rOff, _, ok := p.firstRecord(off, func(r *batch.Record) bool { return r.Timestamp == ts }); ok {
		return rOff, ts
	}
	return off, ts
}

// firstRecord reads the batch holding off and returns the first record at
// or after off (and the log start) for which match holds.
func (p *Partition) firstRecord(off model.Offset, match func(*batch.Record) bool) (model.Offset, int64, bool) {
	chunk, err := p.log.Read(off, 0, true)
	if err != nil || chunk.Size < batch.HeaderSize {
		return 0, 0, false
	}
	head := make([]byte, batch.HeaderSize)
	if _, err := chunk.ReadAt(head, 0); err != nil {
		return 0, 0, false
	}
	size := batch.Header(head).Size()
	if int64(size) > chunk.Size {
		return 0, 0, false
	}
	b := make([]byte, size)
	if _, err := chunk.ReadAt(b, 0); err != nil {
		return 0, 0, false
	}
	from := max(int64(off), int64(p.log.LogStartOffset()))
	var gotOff, gotTs int64
	err = batch.Records(b, func(r *batch.Record) error {
		if r.Offset >= from && match(r) {
			gotOff, gotTs = r.Offset, r.Timestamp
			return errFound
		}
		return nil
	})
	if !errors.Is(err, errFound) {
		return 0, 0, false
	}
	return model.Offset(gotOff), gotTs, true
}
