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

// ReadBatches copies whole batches from the log into dst, up to the log
// end, not the high watermark: a coordinator loads when its node becomes
// the partition's leader, whose high watermark may still be the one it
// had as a follower, below records its old leader committed; they are
// committed again once the followers fetch from it (a leader never cuts
// its own log). Read to the high watermark, the new coordinator lost the
// offsets committed just before the old one died (found by
// TestGroupOffsetsSurviveCoordinatorCrash).
func (l PartitionLog) ReadBatches(dst []byte, from model.Offset, maxBytes int) ([]byte, error) {
	c, err := l.ReadLog(from, l.LogEndOffset(), int32(min(maxBytes, 1<<30)), true)
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
