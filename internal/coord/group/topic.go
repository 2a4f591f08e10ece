package group

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/sluice-io/sluice/internal/coord/runtime"
	"github.com/sluice-io/sluice/internal/model"
)

// loadWait bounds how long FindCoordinator waits for a loading shard.
const loadWait = time.Second

// FindCoordinator returns the broker that coordinates groupID: the
// leader of its __consumer_offsets partition. The first call creates
// __consumer_offsets. The code is COORDINATOR_NOT_AVAILABLE when the
// topic cannot be created or the partition has no live leader.
func (c *Coordinator) FindCoordinator(ctx context.Context, groupID string) (model.NodeID, int16, error) {
	if c == nil {
		return -1, codeCoordinatorNotAvailable, errors.New("no group coordinator")
	}
	if ctx == nil {
		ctx = context.Background()
	}
	if err := c.ensureTopic(ctx); err != nil {
		return -1, codeCoordinatorNotAvailable, err
	}
	im := c.pub.Current()
	t := im.Topics[OffsetsTopic]
	if t == nil || len(t.Partitions) == 0 {
		return -1, codeCoordinatorNotAvailable, errors.New("offsets topic has no partitions")
	}
	pid := Partition(groupID, int32(len(t.Partitions)))
	p := t.Partitions[pid]
	if b := im.Brokers[p.Leader]; b == nil || b.Fenced {
		return -1, codeCoordinatorNotAvailable, fmt.Errorf("offsets partition leader %d is not available", p.Leader)
	}
	if p.Leader == c.opts.NodeID {
		c.awaitLoad(ctx, pid)
	}
	return p.Leader, 0, nil
}

// awaitLoad waits a little for a local shard that is loading (a new
// __consumer_offsets, a restart), so the client's next request finds it
// loaded rather than COORDINATOR_LOAD_IN_PROGRESS and a retry backoff.
func (c *Coordinator) awaitLoad(ctx context.Context, partition int32) {
	c.mu.Lock()
	sl := c.slots[partition]
	c.mu.Unlock()
	if sl == nil {
		return
	}
	t := time.NewTimer(loadWait)
	defer t.Stop()
	select {
	case <-sl.ready:
	case <-t.C:
	case <-ctx.Done():
	}
}

// ensureTopic creates __consumer_offsets when missing:
// offsets.topic.num.partitions partitions, a replication factor of
// offsets.topic.replication.factor but at most the live brokers, and
// compaction.
func (c *Coordinator) ensureTopic(ctx context.Context) error {
	if c.pub.Current().Topics[OffsetsTopic] != nil {
		return nil
	}
	c.createMu.Lock()
	defer c.createMu.Unlock()
	im := c.pub.Current()
	if im.Topics[OffsetsTopic] != nil {
		return nil
	}
	rf, err := runtime.CreateInternalTopic(ctx, im, c.topics, runtime.InternalTopic{
		Name: OffsetsTopic, Partitions: c.opts.OffsetsTopicPartitions,
		ReplicationFactor: c.opts.OffsetsTopicReplicationFactor,
		Configs: map[string]string{
			"cleanup.policy":   "compact",
			"compression.type": "producer",
			"segment.bytes":    strconv.Itoa(int(c.opts.OffsetsTopicSegmentBytes)),
		},
	})
	if err != nil || rf == 0 {
		return err
	}
	c.opts.Logger.Info("created offsets topic", "partitions", c.opts.OffsetsTopicPartitions, "replication_factor", rf)
	return nil
}
