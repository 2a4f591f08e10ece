package txn

import (
	"slices"

	"github.com/sluice-io/sluice/internal/coord/runtime"
	"github.com/sluice-io/sluice/internal/model"
	"github.com/sluice-io/sluice/internal/replica"
)

// partitionLog adapts a local __transaction_state replica to the
// runtime's Log.
type partitionLog struct {
	*replica.Partition
	clock runtime.Clock
}

// Append appends a batch the coordinator built.
func (l partitionLog) Append(b []byte) (model.Offset, error) {
	return l.Partition.AppendCoordinator(b, l.clock.Now().UnixMilli())
}

// ReadBatches copies whole batches from the log into dst.
func (l partitionLog) ReadBatches(dst []byte, from model.Offset, maxBytes int) ([]byte, error) {
	c, err := l.Read(from, int32(min(maxBytes, 1<<30)), true)
	if err != nil || c.Empty() {
		return dst, err
	}
	n := len(dst)
	dst = slices.Grow(dst, int(c.Size))[:n+int(c.Size)]
	if _, err := c.ReadAt(dst[n:], 0); err != nil {
		return dst[:n], err
	}
	return dst, nil
}
