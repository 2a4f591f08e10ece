package txn

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

// FindCoordinator returns the broker that coordinates the transactional
// id: the leader of its __transaction_state partition. The first call
// creates __transaction_state. The code is COORDINATOR_NOT_AVAILABLE when
// the topic cannot be created or the partition has no live leader.
func (c *Coordinator) FindCoordinator(ctx context.Context, id string) (model.NodeID, int16, error) {
	if c == nil {
		return -1, codeCoordinatorNotAvailable, errors.New("no transaction coordinator")
	}
	if err := c.ensureTopic(ctx); err != nil {
		return -1, codeCoordinatorNotAvailable, err
	}
	im := c.deps.Metadata.Current()
	t := im.Topics[TopicName]
	if t == nil || len(t.Partitions) == 0 {
		return -1, codeCoordinatorNotAvailable, errors.New("transaction state topic has no partitions")
	}
	pid := Partition(id, int32(len(t.Partitions)))
	p := t.Partitions[pid]
	if b := im.Brokers[p.Leader]; b == nil || b.Fenced {
		return -1, codeCoordinatorNotAvailable, fmt.Errorf("transaction state partition leader %d is not available", p.Leader)
	}
	if p.Leader == c.opts.NodeID {
		c.awaitLoad(ctx, pid)
	}
	return p.Leader, 0, nil
}

// awaitLoad waits a little for a local shard that is loading, so the
// client's next request finds it loaded.
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

// ensureTopic creates __transaction_state when missing:
// transaction.state.log.num.partitions partitions, a replication factor
// of transaction.state.log.replication.factor but at most the live
// brokers, min.insync.replicas of transaction.state.log.min.isr (at most
// the replication factor), and compaction, as Kafka creates it.
func (c *Coordinator) ensureTopic(ctx context.Context) error {
	if c.deps.Metadata.Current().Topics[TopicName] != nil {
		return nil
	}
	c.createMu.Lock()
	defer c.createMu.Unlock()
	im := c.deps.Metadata.Current()
	if im.Topics[TopicName] != nil {
		return nil
	}
	configs := map[string]string{
		"cleanup.policy":   "compact",
		"compression.type": "uncompressed",
		"segment.bytes":    strconv.Itoa(int(c.opts.TopicSegmentBytes)),
	}
	if c.opts.TopicMinISR > 0 {
		configs["min.insync.replicas"] = strconv.Itoa(int(c.opts.TopicMinISR))
	}
	if ctx == nil {
		ctx = context.Background()
	}
	rf, err := runtime.CreateInternalTopic(ctx, im, c.deps.Topics, runtime.InternalTopic{
		Name: TopicName, Partitions: c.opts.TopicPartitions,
		ReplicationFactor: c.opts.TopicReplicationFactor, Configs: configs,
	})
	if err != nil || rf == 0 {
		return err
	}
	c.opts.Logger.Info("created transaction state topic", "partitions", c.opts.TopicPartitions, "replication_factor", rf)
	return nil
}
