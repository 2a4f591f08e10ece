package handler

import (
	"context"

	"github.com/sluice-io/sluice/internal/producerid"
)

// producerIDs returns the broker's producer id manager: the one the node
// wired in, or else one taking blocks of producerid.BlockSize ids from the
// local controller, made on first use.
func (b *Broker) producerIDs() *producerid.Manager {
	if b.ProducerIDs != nil {
		return b.ProducerIDs
	}
	b.defaultPIDs.Do(func() {
		b.defaultPIDsImpl = producerid.New(func(ctx context.Context, count int) (int64, error) {
			return b.Controller.AllocateProducerIDs(ctx, b.Settings.NodeID, count)
		}, producerid.BlockSize)
	})
	return b.defaultPIDsImpl
}
