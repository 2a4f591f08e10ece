package group

import (
	"strconv"

	"github.com/sluice-io/sluice/internal/coord/runtime"
	"github.com/sluice-io/sluice/internal/metadata"
)

// Replicas finds this broker's replica of a partition (cluster.Replicas).
type Replicas = runtime.Replicas

// TopicCreator creates topics through the controller
// (controller.Controller).
type TopicCreator = runtime.TopicCreator

// Coordinator is the broker's group coordinator: one shard per
// __consumer_offsets partition this broker leads, loaded when the
// metadata makes it the leader and unloaded when it stops being it.
// Safe for concurrent use. A nil *Coordinator is a broker without one:
// every group request gets COORDINATOR_NOT_AVAILABLE.
type Coordinator struct {
	opts  Options
	pub   *metadata.Publisher
	slots *runtime.Slots[*shard]
}

// slot is one led __consumer_offsets partition, loading or loaded.
type slot = runtime.Slot[*shard]

// New returns a coordinator; Start makes it follow the metadata.
func New(opts Options, pub *metadata.Publisher, replicas Replicas, topics TopicCreator) *Coordinator {
	opts.normalize()
	c := &Coordinator{opts: opts, pub: pub}
	c.opts.metadataImage = c.image // consumer groups read topics (consumer_subscription.go)
	// __consumer_offsets: offsets.topic.num.partitions partitions, a
	// replication factor of offsets.topic.replication.factor but at most
	// the live brokers, and compaction.
	topic := runtime.InternalTopic{
		Name: OffsetsTopic, Partitions: opts.OffsetsTopicPartitions,
		ReplicationFactor: opts.OffsetsTopicReplicationFactor,
		Configs: map[string]string{
			"cleanup.policy":   "compact",
			"compression.type": "producer",
			"segment.bytes":    strconv.Itoa(int(opts.OffsetsTopicSegmentBytes)),
		},
	}
	c.slots = runtime.NewSlots(runtime.SlotsConfig[*shard]{
		Topic: topic, Label: "offsets", Name: "group coordinator",
		Node: opts.NodeID, Metadata: pub, Replicas: replicas, Topics: topics,
		Clock: opts.Clock, Logger: opts.Logger,
		New:   func(sl *slot) *shard { return newShard(&c.opts, sl.Partition()) },
		Attrs: func(m *shard) []any { return []any{"groups", len(m.groups)} },
	})
	return c
}

// Start subscribes to the metadata: from now on the coordinator loads the
// shards of the __consumer_offsets partitions this broker leads.
// Subscribe it after cluster.Replicas.Reconcile, so the replicas exist.
func (c *Coordinator) Start() { c.slots.Start() }

// Close unloads every shard (parked requests are answered
// NOT_COORDINATOR) and waits for loads in progress to stop.
func (c *Coordinator) Close() { c.slots.Close() }

// route finds the loaded shard of a group, or the code that says why
// there is none: NOT_COORDINATOR when this broker does not lead its
// partition, COORDINATOR_LOAD_IN_PROGRESS while it loads.
func (c *Coordinator) route(groupID string) (*slot, int16) {
	if c == nil {
		return nil, codeCoordinatorNotAvailable
	}
	return c.slots.Route(groupID)
}

// submit runs op now on the shard of groupID, in the caller's order; the
// returned wait blocks until its effects are durable and returns 0, or
// the code that says why it could not run. wait must be called once.
func (c *Coordinator) submit(groupID string, op func(s *shard, w *runtime.Writer)) (wait func() int16) {
	if len(groupID) > maxRecordString {
		return func() int16 { return codeInvalidGroupID } // no record can name it
	}
	sl, code := c.route(groupID)
	if code != 0 {
		return func() int16 { return code }
	}
	done := sl.Submit(op)
	return func() int16 { return runtimeCode(done()) }
}

// loaded returns the loaded shards and whether any is still loading.
func (c *Coordinator) loaded() ([]*slot, bool) {
	if c == nil {
		return nil, false
	}
	return c.slots.Loaded()
}

// runtimeCode maps a runtime failure to the code clients get: the shard
// closed (runtime.ErrClosed: unloaded, the broker stops), its write
// failed (runtime.ErrFailed) or durability could not be had. Each means
// "find the coordinator again"; Kafka maps storage and leadership errors
// of coordinator writes to NOT_COORDINATOR too.
func runtimeCode(err error) int16 {
	if err == nil {
		return 0
	}
	return codeNotCoordinator
}

// image is the current metadata (empty for a nil Coordinator).
func (c *Coordinator) image() *metadata.Image {
	if c == nil {
		return metadata.Empty()
	}
	return c.pub.Current()
}
