package txn

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/sluice-io/sluice/internal/coord/group"
	"github.com/sluice-io/sluice/internal/coord/runtime"
	"github.com/sluice-io/sluice/internal/metadata"
	"github.com/sluice-io/sluice/internal/model"
)

// loadRetry is how long a failed load waits before it is tried again.
const loadRetry = time.Second

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
	// Markers writes transaction markers; nil is LocalMarkers (every
	// partition on this broker). TODO(#4): a writer that sends
	// WriteTxnMarkers to the leaders on other brokers.
	Markers MarkerWriter
}

// Coordinator is the broker's transaction coordinator: one shard per
// __transaction_state partition this broker leads, loaded when the
// metadata makes it the leader and unloaded when it stops being it. Safe
// for concurrent use. A nil *Coordinator is a broker without one: every
// transactional request gets COORDINATOR_NOT_AVAILABLE.
type Coordinator struct {
	opts     Options
	deps     Deps
	local    *LocalMarkers
	ctx      context.Context // canceled by Close: loads and completions stop
	cancel   context.CancelFunc
	bg       sync.WaitGroup // loads and completions
	createMu sync.Mutex     // one creation of __transaction_state at a time

	mu     sync.Mutex
	slots  map[int32]*slot // guarded by mu: the partitions this broker leads
	closed bool            // guarded by mu
}

// slot is one led __transaction_state partition, loading or loaded.
type slot struct {
	partition int32
	epoch     model.LeaderEpoch
	topicID   model.TopicID
	machine   *shard
	shard     *runtime.Shard     // guarded by Coordinator.mu; nil while loading
	ready     chan struct{}      // closed once loaded
	ctx       context.Context    // canceled when unloaded
	cancel    context.CancelFunc // cancels ctx
}

// New returns a coordinator; Start makes it follow the metadata.
func New(opts Options, deps Deps) *Coordinator {
	opts.normalize()
	c := &Coordinator{opts: opts, deps: deps, slots: map[int32]*slot{}}
	c.local = &LocalMarkers{NodeID: opts.NodeID, Metadata: deps.Metadata, Replicas: deps.Replicas, Groups: deps.Groups, Clock: opts.Clock}
	if c.deps.Markers == nil {
		c.deps.Markers = c.local
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	return c
}

// Options returns the settings in effect.
func (c *Coordinator) Options() Options { return c.opts }

// Local is the marker writer for partitions this broker leads (the
// WriteTxnMarkers handler).
func (c *Coordinator) Local() *LocalMarkers { return c.local }

// Start subscribes to the metadata. Subscribe it after
// cluster.Replicas.Reconcile, so the replicas exist.
func (c *Coordinator) Start() { c.deps.Metadata.Subscribe(c.onMetadata) }

// Close unloads every shard and waits for loads and marker writes in
// progress to stop (a new leader finishes them).
func (c *Coordinator) Close() {
	c.mu.Lock()
	c.closed = true
	slots := c.slots
	c.slots = map[int32]*slot{}
	c.mu.Unlock()
	c.cancel()
	for _, sl := range slots {
		c.unload(sl)
	}
	c.bg.Wait()
}

type leadership = runtime.Leadership

// onMetadata loads the shards of partitions this broker now leads and
// unloads the others; loads run on goroutines of their own.
func (c *Coordinator) onMetadata(_, next *metadata.Image) {
	want := runtime.LedPartitions(next, TopicName, c.opts.NodeID, c.deps.Replicas)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	for p, sl := range c.slots {
		if l, ok := want[p]; !ok || l != (leadership{Epoch: sl.epoch, TopicID: sl.topicID}) {
			delete(c.slots, p)
			go c.unload(sl)
		}
	}
	for p, l := range want {
		if c.slots[p] == nil {
			c.startLoadLocked(p, l)
		}
	}
}

func (c *Coordinator) startLoadLocked(p int32, l leadership) {
	ctx, cancel := context.WithCancel(c.ctx)
	sl := &slot{partition: p, epoch: l.Epoch, topicID: l.TopicID, ready: make(chan struct{}), ctx: ctx, cancel: cancel}
	c.slots[p] = sl
	c.bg.Add(1)
	go func() {
		defer c.bg.Done()
		for ctx.Err() == nil {
			err := c.load(ctx, sl)
			if err == nil {
				return
			}
			c.opts.Logger.Error("load transaction coordinator shard", "partition", p, "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(loadRetry):
			}
		}
	}()
}

// load replays the partition into a new shard and publishes it.
func (c *Coordinator) load(ctx context.Context, sl *slot) error {
	part := c.deps.Replicas.Get(model.TopicPartition{Topic: TopicName, Partition: sl.partition})
	if part == nil {
		return errors.New("no local replica")
	}
	m := newShard(&c.opts, sl.partition, int32(sl.epoch), func(m *meta) { c.startCompletion(sl, m) })
	sh, err := runtime.Load(ctx, runtime.PartitionLog{Partition: part, Clock: c.opts.Clock}, m, runtime.Options{
		Clock:     c.opts.Clock,
		Logger:    c.opts.Logger,
		OnFailure: func(error) { c.reload(sl) },
	})
	if err != nil {
		return err
	}
	c.mu.Lock()
	if c.slots[sl.partition] != sl {
		c.mu.Unlock()
		sh.Close()
		return nil
	}
	sl.machine, sl.shard = m, sh
	close(sl.ready)
	c.mu.Unlock()
	c.opts.Logger.Debug("loaded transaction coordinator shard", "partition", sl.partition)
	return nil
}

// reload replaces a shard whose write failed with a fresh load.
func (c *Coordinator) reload(sl *slot) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.slots[sl.partition] != sl {
		return
	}
	sl.cancel()
	c.startLoadLocked(sl.partition, leadership{Epoch: sl.epoch, TopicID: sl.topicID})
}

func (c *Coordinator) unload(sl *slot) {
	sl.cancel()
	c.mu.Lock()
	sh := sl.shard
	c.mu.Unlock()
	if sh != nil {
		sh.Close()
	}
}

// route finds the loaded shard of a transactional id, or the code that
// says why there is none.
func (c *Coordinator) route(id string) (*slot, *runtime.Shard, int16) {
	if c == nil {
		return nil, nil, codeCoordinatorNotAvailable
	}
	t := c.deps.Metadata.Current().Topics[TopicName]
	if t == nil || len(t.Partitions) == 0 {
		return nil, nil, codeNotCoordinator
	}
	p := Partition(id, int32(len(t.Partitions)))
	c.mu.Lock()
	defer c.mu.Unlock()
	sl := c.slots[p]
	switch {
	case sl == nil:
		return nil, nil, codeNotCoordinator
	case sl.shard == nil:
		return nil, nil, codeLoadInProgress
	}
	return sl, sl.shard, 0
}

// run executes op on the shard of id and returns once its effects are
// durable, with 0 or the code that says why it could not run.
func (c *Coordinator) run(id string, op func(s *shard, w *runtime.Writer)) int16 {
	sl, sh, code := c.route(id)
	if code != 0 {
		return code
	}
	return runtimeCode(sh.Run(func(w *runtime.Writer) { op(sl.machine, w) }))
}

// loaded returns the loaded slots and whether any is still loading.
func (c *Coordinator) loaded() ([]*slot, []*runtime.Shard, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var slots []*slot
	var shards []*runtime.Shard
	loading := false
	for _, sl := range c.slots {
		if sl.shard == nil {
			loading = true
			continue
		}
		slots, shards = append(slots, sl), append(shards, sl.shard)
	}
	return slots, shards, loading
}

// Partition is the __transaction_state partition of a transactional id:
// Kafka's abs(javaHashCode(id)) % partitions, the rule of
// __consumer_offsets too.
func Partition(id string, partitions int32) int32 { return group.Partition(id, partitions) }
