package txn

import (
	"context"
	"math"
	"strconv"
	"sync/atomic"

	"github.com/sluice-io/sluice/internal/coord/group"
	"github.com/sluice-io/sluice/internal/coord/runtime"
	"github.com/sluice-io/sluice/internal/metadata"
	"github.com/sluice-io/sluice/internal/model"
)

// Replicas finds this broker's replica of a partition (cluster.Replicas).
type Replicas = runtime.Replicas

// TopicCreator creates topics through the controller
// (controller.Controller).
type TopicCreator = runtime.TopicCreator

// ProducerIDs hands out new producer ids (producerid.Manager).
type ProducerIDs interface {
	Next(ctx context.Context) (model.ProducerID, error)
}

// Deps are what the coordinator works with.
type Deps struct {
	Metadata    *metadata.Publisher
	Replicas    Replicas
	Topics      TopicCreator
	ProducerIDs ProducerIDs
	// Groups completes transactional offset commits in
	// __consumer_offsets partitions this broker leads.
	Groups *group.Coordinator
	// Markers writes transaction markers; nil is RemoteMarkers (the
	// partitions led here directly, the others through their leaders).
	Markers MarkerWriter
}

// Coordinator is the broker's transaction coordinator: one shard per
// __transaction_state partition this broker leads, loaded when the
// metadata makes it the leader and unloaded when it stops being it. Safe
// for concurrent use. A nil *Coordinator is a broker without one: every
// transactional request gets COORDINATOR_NOT_AVAILABLE.
type Coordinator struct {
	opts   Options
	deps   Deps
	local  *LocalMarkers
	remote *RemoteMarkers         // also the connections to other brokers (remote.go)
	slots  *runtime.Slots[*shard] // its Go runs the completions (markers.go)
	// verify is transaction.partition.verification.enable, a dynamic
	// broker config: opts.VerifyPartitions until SetVerifyPartitions.
	verify atomic.Bool
}

// slot is one led __transaction_state partition, loading or loaded.
type slot = runtime.Slot[*shard]

// New returns a coordinator; Start makes it follow the metadata.
func New(opts Options, deps Deps) *Coordinator {
	opts.normalize()
	c := &Coordinator{opts: opts, deps: deps}
	c.verify.Store(opts.VerifyPartitions)
	c.local = &LocalMarkers{NodeID: opts.NodeID, Metadata: deps.Metadata, Replicas: deps.Replicas, Groups: deps.Groups, Clock: opts.Clock}
	c.remote = &RemoteMarkers{Local: c.local}
	if c.deps.Markers == nil {
		c.deps.Markers = c.remote
	}
	// __transaction_state, as Kafka creates it:
	// transaction.state.log.num.partitions partitions, a replication
	// factor of transaction.state.log.replication.factor but at most the
	// live brokers, min.insync.replicas of transaction.state.log.min.isr
	// (at most the replication factor), and compaction.
	configs := map[string]string{
		"cleanup.policy":   "compact",
		"compression.type": "uncompressed",
		"segment.bytes":    strconv.Itoa(int(opts.TopicSegmentBytes)),
	}
	if opts.TopicMinISR > 0 {
		configs["min.insync.replicas"] = strconv.Itoa(int(opts.TopicMinISR))
	}
	topic := runtime.InternalTopic{Name: TopicName, Partitions: opts.TopicPartitions,
		ReplicationFactor: opts.TopicReplicationFactor, Configs: configs}
	c.slots = runtime.NewSlots(runtime.SlotsConfig[*shard]{
		Topic: topic, Label: "transaction state", Name: "transaction coordinator",
		Node: opts.NodeID, Metadata: deps.Metadata, Replicas: deps.Replicas, Topics: deps.Topics,
		Clock: opts.Clock, Logger: opts.Logger,
		New: func(sl *slot) *shard {
			return newShard(&c.opts, sl.Partition(), int32(sl.Epoch()), func(m *meta) { c.startCompletion(sl, m) })
		},
	})
	return c
}

// Options returns the settings in effect.
func (c *Coordinator) Options() Options { return c.opts }

// VerifyPartitions reports whether transactional produces are verified
// with the coordinator first (KIP-890 part 1).
func (c *Coordinator) VerifyPartitions() bool { return c.verify.Load() }

// SetVerifyPartitions applies a change of
// transaction.partition.verification.enable.
func (c *Coordinator) SetVerifyPartitions(on bool) { c.verify.Store(on) }

// Local is the marker writer for partitions this broker leads (the
// WriteTxnMarkers handler).
func (c *Coordinator) Local() *LocalMarkers { return c.local }

// Start subscribes to the metadata. Subscribe it after
// cluster.Replicas.Reconcile, so the replicas exist.
func (c *Coordinator) Start() { c.slots.Start() }

// Close unloads every shard and waits for loads and marker writes in
// progress to stop (a new leader finishes them).
func (c *Coordinator) Close() {
	c.slots.Close()
	c.remote.Close()
}

// route finds the loaded shard of a transactional id, or the code that
// says why there is none.
func (c *Coordinator) route(id string) (*slot, int16) {
	if c == nil {
		return nil, codeCoordinatorNotAvailable
	}
	return c.slots.Route(id)
}

// run executes op on the shard of id and returns once its effects are
// durable, with 0 or the code that says why it could not run.
func (c *Coordinator) run(id string, op func(s *shard, w *runtime.Writer)) int16 {
	if len(id) > math.MaxInt16 {
		return codeInvalidRequest // its record's key holds it with an int16 length: it cannot be written
	}
	sl, code := c.route(id)
	if code != 0 {
		return code
	}
	return runtimeCode(sl.Run(op))
}

// Partition is the __transaction_state partition of a transactional id:
// Kafka's abs(javaHashCode(id)) % partitions, the rule of
// __consumer_offsets too.
func Partition(id string, partitions int32) int32 { return runtime.Partition(id, partitions) }
