package controller

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/sluice-io/sluice/internal/metadata"
	"github.com/sluice-io/sluice/internal/model"
)

// Sentinel errors of producer id allocation.
var (
	// ErrProducerIDsExhausted: no block of producer ids is left below
	// 2^63 (Kafka: UNKNOWN_SERVER_ERROR, "Exhausted all producerIds").
	ErrProducerIDsExhausted = errors.New("exhausted all producer ids")
	// ErrUnknownBroker: the broker asking for ids is not registered
	// (Kafka checks the broker epoch: STALE_BROKER_EPOCH).
	ErrUnknownBroker = errors.New("broker not registered")
)

// AllocateProducerIDs hands broker a block of count producer ids, the
// controller side of Kafka's AllocateProducerIds (KIP-730): it writes a
// ProducerIDsRecord moving the cluster's next producer id past the block
// and returns the block's first id. Blocks never overlap, across brokers
// and restarts, because the cursor lives in the replicated metadata log.
func (c *Controller) AllocateProducerIDs(ctx context.Context, broker model.NodeID, count int) (first int64, err error) {
	if count <= 0 {
		return 0, fmt.Errorf("allocate producer ids: block size %d", count)
	}
	var opErr error
	_, err = c.run(ctx, func(im *metadata.Image) []metadata.Record {
		if im.Brokers[broker] == nil {
			opErr = fmt.Errorf("allocate producer ids for %d: %w", broker, ErrUnknownBroker)
			return nil
		}
		first = im.NextProducerID
		if first > math.MaxInt64-int64(count) {
			opErr = fmt.Errorf("allocate producer ids at %d: %w", first, ErrProducerIDsExhausted)
			return nil
		}
		return []metadata.Record{{ProducerIDs: &metadata.ProducerIDsRecord{Broker: broker, NextID: first + int64(count)}}}
	})
	if err == nil {
		err = opErr
	}
	if err != nil {
		return 0, err
	}
	return first, nil
}
