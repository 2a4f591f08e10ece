package txn

import (
	"context"
	"errors"

	"github.com/sluice-io/sluice/internal/model"
)

// FindCoordinator returns the broker that coordinates the transactional
// id: the leader of its __transaction_state partition. The first call
// creates __transaction_state. The code is COORDINATOR_NOT_AVAILABLE when
// the topic cannot be created or the partition has no live leader. When
// this broker leads a partition still loading, it waits a little for it,
// so the client's next request finds it loaded.
func (c *Coordinator) FindCoordinator(ctx context.Context, id string) (model.NodeID, int16, error) {
	if c == nil {
		return -1, codeCoordinatorNotAvailable, errors.New("no transaction coordinator")
	}
	return c.slots.FindCoordinator(ctx, id)
}
