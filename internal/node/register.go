package node

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/sluice-io/sluice/internal/controller"
	"github.com/sluice-io/sluice/internal/metadata"
)

// register registers this broker. While the controller refuses it as a
// duplicate (another process registered this node.id and lives: its
// heartbeat connection is open) it tries again every second until ctx
// ends, since a process that was just killed may still count as alive
// for a moment; then startup fails naming node.id.
func (n *Node) register(ctx context.Context, ctrl controller.API, rec metadata.BrokerRecord) error {
	warned := false
	for {
		err := ctrl.Register(ctx, rec)
		if !errors.Is(err, kerr.DuplicateBrokerRegistration) {
			return err
		}
		if !warned {
			n.opts.Log.Warn("another process is registered with this node.id and is alive; retrying until it is gone", "node.id", rec.ID)
			warned = true
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("node.id: %d is registered by another live process (DUPLICATE_BROKER_REGISTRATION): "+
				"give every broker its own node.id: %w", rec.ID, err)
		case <-time.After(time.Second): // the other process's end is another process's event
		}
	}
}

// brokerEpoch is this process's broker epoch, read from the first image
// that holds its registration and kept from then on (an image that shows
// another process's registration of this node id never changes it: this
// one's heartbeats are then stale), -1 before.
func (n *Node) brokerEpoch() int64 {
	if e := n.epoch.Load(); e >= 0 {
		return e
	}
	if b := n.pub.Current().Brokers[n.opts.NodeID]; b != nil && b.Incarnation == n.incarnation {
		n.epoch.Store(b.Epoch)
		return b.Epoch
	}
	return -1
}
