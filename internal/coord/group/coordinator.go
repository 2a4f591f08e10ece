package group

import (
	"context"
	"errors"
	"sync"
	"time"

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

// Coordinator is the broker's group coordinator: one shard per
// __consumer_offsets partition this broker leads, loaded when the
// metadata makes it the leader and unloaded when it stops being it.
// Safe for concurrent use. A nil *Coordinator is a broker without one:
// every group request gets COORDINATOR_NOT_AVAILABLE.
type Coordinator struct {
	opts     Options
	pub      *metadata.Publisher
	replicas Replicas
	topics   TopicCreator
	ctx      context.Context // canceled by Close: loads stop
	cancel   context.CancelFunc
	loads    sync.WaitGroup
	createMu sync.Mutex // one creation of __consumer_offsets at a time

	mu     sync.Mutex
	slots  map[int32]*slot // guarded by mu: the partitions this broker leads
	closed bool            // guarded by mu
}

// slot is one led __consumer_offsets partition, loading or loaded.
type slot struct {
	partition int32
	epoch     model.LeaderEpoch
	topicID   model.TopicID
	machine   *shard
	shard     *runtime.Shard // guarded by Coordinator.mu; nil while loading
	ready     chan struct{}  // closed once loaded
	cancel    context.CancelFunc
}

// New returns a coordinator; Start makes it follow the metadata.
func New(opts Options, pub *metadata.Publisher, replicas Replicas, topics TopicCreator) *Coordinator {
	opts.normalize()
	c := &Coordinator{opts: opts, pub: pub, replicas: replicas, topics: topics, slots: map[int32]*slot{}}
	c.opts.metadataImage = c.image // consumer groups read topics (consumer_subscription.go)
	c.ctx, c.cancel = context.WithCancel(context.Background())
	return c
}

// Start subscribes to the metadata: from now on the coordinator loads the
// shards of the __consumer_offsets partitions this broker leads.
// Subscribe it after cluster.Replicas.Reconcile, so the replicas exist.
func (c *Coordinator) Start() { c.pub.Subscribe(c.onMetadata) }

// Close unloads every shard (parked requests are answered
// NOT_COORDINATOR) and waits for loads in progress to stop.
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
	c.loads.Wait()
}

type leadership = runtime.Leadership

// onMetadata is the metadata listener: it loads the shards of partitions
// this broker now leads and unloads the others. It runs inside the
// metadata apply, so loading happens on goroutines of its own.
func (c *Coordinator) onMetadata(_, next *metadata.Image) {
	want := runtime.LedPartitions(next, OffsetsTopic, c.opts.NodeID, c.replicas)
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

// startLoadLocked registers a loading slot and loads it in the
// background, retrying until it loads or is unloaded.
func (c *Coordinator) startLoadLocked(p int32, l leadership) {
	ctx, cancel := context.WithCancel(c.ctx)
	sl := &slot{partition: p, epoch: l.Epoch, topicID: l.TopicID, ready: make(chan struct{}), cancel: cancel}
	c.slots[p] = sl
	c.loads.Add(1)
	go func() {
		defer c.loads.Done()
		for ctx.Err() == nil {
			err := c.load(ctx, sl)
			if err == nil {
				return
			}
			c.opts.Logger.Error("load group coordinator shard", "partition", p, "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(loadRetry):
			}
		}
	}()
}

// load replays the partition into a new shard and publishes it.
func (c *Coordinator) load(ctx context.Context, sl *slot) error {
	part := c.replicas.Get(model.TopicPartition{Topic: OffsetsTopic, Partition: sl.partition})
	if part == nil {
		return errors.New("no local replica")
	}
	m := newShard(&c.opts, sl.partition)
	sh, err := runtime.Load(ctx, runtime.PartitionLog{Partition: part, Clock: c.opts.Clock}, m, runtime.Options{
		Clock:     c.opts.Clock,
		Logger:    c.opts.Logger,
		OnFailure: func(error) { c.reload(sl) },
	})
	if err != nil {
		return err
	}
	groups := len(m.groups) // before the shard is shared
	c.mu.Lock()
	if c.slots[sl.partition] != sl {
		c.mu.Unlock()
		sh.Close() // unloaded while loading
		return nil
	}
	sl.machine, sl.shard = m, sh
	close(sl.ready)
	c.mu.Unlock()
	c.opts.Logger.Debug("loaded group coordinator shard", "partition", sl.partition, "groups", groups)
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

// route finds the loaded shard of a group, or the code that says why
// there is none: NOT_COORDINATOR when this broker does not lead its
// partition, COORDINATOR_LOAD_IN_PROGRESS while it loads.
func (c *Coordinator) route(groupID string) (*slot, int16) {
	if c == nil {
		return nil, codeCoordinatorNotAvailable
	}
	t := c.pub.Current().Topics[OffsetsTopic]
	if t == nil || len(t.Partitions) == 0 {
		return nil, codeNotCoordinator
	}
	p := Partition(groupID, int32(len(t.Partitions)))
	c.mu.Lock()
	defer c.mu.Unlock()
	sl := c.slots[p]
	switch {
	case sl == nil:
		return nil, codeNotCoordinator
	case sl.shard == nil:
		return nil, codeLoadInProgress
	}
	return sl, 0
}

// submit runs op now on the shard of groupID, in the caller's order; the
// returned wait blocks until its effects are durable and returns 0, or
// the code that says why it could not run. wait must be called once.
func (c *Coordinator) submit(groupID string, op func(s *shard, w *runtime.Writer)) (wait func() int16) {
	sl, code := c.route(groupID)
	if code != 0 {
		return func() int16 { return code }
	}
	done := sl.shard.Submit(func(w *runtime.Writer) { op(sl.machine, w) })
	return func() int16 { return runtimeCode(done()) }
}

// loaded returns the loaded shards and whether any is still loading.
func (c *Coordinator) loaded() ([]*slot, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*slot
	loading := false
	for _, sl := range c.slots {
		if sl.shard == nil {
			loading = true
			continue
		}
		out = append(out, sl)
	}
	return out, loading
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
