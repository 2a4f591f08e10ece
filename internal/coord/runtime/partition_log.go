package runtime

import (
	"slices"

	"github.com/sluice-io/sluice/internal/model"
	"github.com/sluice-io/sluice/internal/replica"
)

// PartitionLog adapts a local replica of an internal topic
// (__consumer_offsets, __transaction_state) to the runtime's Log.
type PartitionLog struct {
	*replica.Partition
	Clock Clock
}

// Append appends a batch the coordinator built (transactional batches and
// markers included).
func (l PartitionLog) Append(b []byte) (model.Offset, error) {
	return l.Partition.AppendCoordinator(b, l.Clock.Now().UnixMilli())
}

// ReadBatches copies whole batches from the log into dst.
func (l PartitionLog) ReadBatches(dst []byte, from model.Offset, maxBytes int) ([]byte, error) {
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
