package group

import (
	"context"
	"errors"

	"github.com/sluice-io/sluice/internal/model"
)

// FindCoordinator returns the broker that coordinates groupID: the
// leader of its __consumer_offsets partition. The first call creates
// __consumer_offsets. The code is COORDINATOR_NOT_AVAILABLE when the
// topic cannot be created or the partition has no live leader. When this
// broker leads a partition still loading, it waits a little for it, so
// the client's next request finds it loaded rather than
// COORDINATOR_LOAD_IN_PROGRESS and a retry backoff.
func (c *Coordinator) FindCoordinator(ctx context.Context, groupID string) (model.NodeID, int16, error) {
	if c == nil {
		return -1, codeCoordinatorNotAvailable, errors.New("no group coordinator")
	}
	return c.slots.FindCoordinator(ctx, groupID)
}
