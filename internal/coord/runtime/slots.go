package runtime

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/sluice-io/sluice/internal/metadata"
	"github.com/sluice-io/sluice/internal/model"
)

// loadRetry is how long a failed load waits before it is tried again.
const loadRetry = time.Second

// The Kafka codes that say why a key has no loaded shard here.
var (
	codeCoordinatorNotAvailable = kerr.CoordinatorNotAvailable.Code
	codeNotCoordinator          = kerr.NotCoordinator.Code
	codeLoadInProgress          = kerr.CoordinatorLoadInProgress.Code
)

// SlotsConfig is what Slots work with.
type SlotsConfig[M Machine] struct {
	// Topic is the internal topic, as FindCoordinator creates it.
	Topic InternalTopic
	// Label names the topic in errors and logs ("offsets": "offsets
	// topic", "offsets partition"); Name names the coordinator in logs
	// ("group coordinator").
	Label, Name string
	// Node is this broker; Metadata, Replicas and Topics are its
	// metadata, local replicas and controller.
	Node     model.NodeID
	Metadata *metadata.Publisher
	Replicas Replicas
	Topics   TopicCreator
	// Clock and Logger are the shards'; nil are the wall clock and a
	// logger that discards.
	Clock  Clock
	Logger *slog.Logger
	// New returns a fresh machine for a slot about to load.
	New func(sl *Slot[M]) M
	// Attrs, when set, returns what the debug log of a load tells of the
	// machine just loaded (read before the shard is shared).
	Attrs func(m M) []any
}

// Slots are a coordinator's shards: one slot per partition of its
// internal topic that this broker leads, loaded when the metadata makes
// it the leader and unloaded when it stops being it or the leadership
// changes. A failed load is tried again after a pause; a shard whose
// write failed is loaded again. Safe for concurrent use.
type Slots[M Machine] struct {
	cfg      SlotsConfig[M]
	ctx      context.Context // canceled by Close: loads and Go's functions stop
	cancel   context.CancelFunc
	bg       sync.WaitGroup // loads and Go's functions
	createMu sync.Mutex     // one creation of the topic at a time

	mu     sync.Mutex
	slots  map[int32]*Slot[M] // guarded by mu: the partitions this broker leads
	closed bool               // guarded by mu
}

// Slot is one led partition, loading or loaded.
type Slot[M Machine] struct {
	partition int32
	lead      Leadership
	ctx       context.Context // canceled when unloaded
	cancel    context.CancelFunc
	ready     chan struct{} // closed once loaded
	machine   M             // set before ready closes
	shard     *Shard        // guarded by Slots.mu, set before ready closes; nil while loading
}

// NewSlots returns the slots of a coordinator; Start makes them follow
// the metadata.
func NewSlots[M Machine](cfg SlotsConfig[M]) *Slots[M] {
	DefaultClockLogger(&cfg.Clock, &cfg.Logger)
	s := &Slots[M]{cfg: cfg, slots: map[int32]*Slot[M]{}}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s
}

// Start subscribes to the metadata: from now on the slots of the
// partitions this broker leads load. Subscribe it after
// cluster.Replicas.Reconcile, so the replicas exist.
func (s *Slots[M]) Start() { s.cfg.Metadata.Subscribe(s.onMetadata) }

// Close unloads every shard and waits for loads and Go's functions in
// progress to stop.
func (s *Slots[M]) Close() {
	s.mu.Lock()
	s.closed = true
	slots := s.slots
	s.slots = map[int32]*Slot[M]{}
	s.mu.Unlock()
	s.cancel()
	for _, sl := range slots {
		s.unload(sl)
	}
	s.bg.Wait()
}

// Go runs f on a goroutine of its own that Close waits for; once Close
// began it does not run f and returns false. f should end when the
// contexts of the slots it works on are done.
func (s *Slots[M]) Go(f func()) bool {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return false
	}
	s.bg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.bg.Done()
		f()
	}()
	return true
}

// onMetadata is the metadata listener: it loads the shards of partitions
// this broker now leads and unloads the others. It runs inside the
// metadata apply, so loading happens on goroutines of its own.
func (s *Slots[M]) onMetadata(_, next *metadata.Image) {
	want := LedPartitions(next, s.cfg.Topic.Name, s.cfg.Node, s.cfg.Replicas)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	for p, sl := range s.slots {
		if l, ok := want[p]; !ok || l != sl.lead {
			delete(s.slots, p)
			go s.unload(sl)
		}
	}
	for p, l := range want {
		if s.slots[p] == nil {
			s.startLoadLocked(p, l)
		}
	}
}

// startLoadLocked registers a loading slot and loads it in the
// background, retrying until it loads or is unloaded.
func (s *Slots[M]) startLoadLocked(p int32, l Leadership) {
	ctx, cancel := context.WithCancel(s.ctx)
	sl := &Slot[M]{partition: p, lead: l, ctx: ctx, cancel: cancel, ready: make(chan struct{})}
	s.slots[p] = sl
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		for ctx.Err() == nil {
			err := s.load(ctx, sl)
			if err == nil {
				return
			}
			s.cfg.Logger.Error("load "+s.cfg.Name+" shard", "partition", p, "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(loadRetry):
			}
		}
	}()
}

// load replays the partition into a new shard and publishes it.
func (s *Slots[M]) load(ctx context.Context, sl *Slot[M]) error {
	part := s.cfg.Replicas.Get(model.TopicPartition{Topic: s.cfg.Topic.Name, Partition: sl.partition})
	if part == nil {
		return errors.New("no local replica")
	}
	m := s.cfg.New(sl)
	sh, err := Load(ctx, PartitionLog{Partition: part, Clock: s.cfg.Clock}, m, Options{
		Clock:     s.cfg.Clock,
		Logger:    s.cfg.Logger,
		OnFailure: func(error) { s.reload(sl) },
	})
	if err != nil {
		return err
	}
	attrs := []any{"partition", sl.partition}
	if s.cfg.Attrs != nil {
		attrs = append(attrs, s.cfg.Attrs(m)...) // before the shard is shared
	}
	s.mu.Lock()
	if s.slots[sl.partition] != sl {
		s.mu.Unlock()
		sh.Close() // unloaded while loading
		return nil
	}
	sl.machine, sl.shard = m, sh
	close(sl.ready)
	s.mu.Unlock()
	s.cfg.Logger.Debug("loaded "+s.cfg.Name+" shard", attrs...)
	return nil
}

// reload replaces a shard whose write failed with a fresh load.
func (s *Slots[M]) reload(sl *Slot[M]) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.slots[sl.partition] != sl {
		return
	}
	sl.cancel()
	s.startLoadLocked(sl.partition, sl.lead)
}

func (s *Slots[M]) unload(sl *Slot[M]) {
	sl.cancel()
	s.mu.Lock()
	sh := sl.shard
	s.mu.Unlock()
	if sh != nil {
		sh.Close()
	}
}

// Get returns the loaded slot of partition p, or the code that says why
// there is none: NOT_COORDINATOR when this broker does not lead p,
// COORDINATOR_LOAD_IN_PROGRESS while it loads.
func (s *Slots[M]) Get(p int32) (*Slot[M], int16) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sl := s.slots[p]
	switch {
	case sl == nil:
		return nil, codeNotCoordinator
	case sl.shard == nil:
		return nil, codeLoadInProgress
	}
	return sl, 0
}

// Route is Get of the partition that holds key (Partition):
// NOT_COORDINATOR too while the topic has no partitions.
func (s *Slots[M]) Route(key string) (*Slot[M], int16) {
	t := s.cfg.Metadata.Current().Topics[s.cfg.Topic.Name]
	if t == nil || len(t.Partitions) == 0 {
		return nil, codeNotCoordinator
	}
	return s.Get(Partition(key, int32(len(t.Partitions))))
}

// Loaded returns the loaded slots and whether any is still loading.
func (s *Slots[M]) Loaded() ([]*Slot[M], bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*Slot[M]
	loading := false
	for _, sl := range s.slots {
		if sl.shard == nil {
			loading = true
			continue
		}
		out = append(out, sl)
	}
	return out, loading
}

// Partition is the slot's partition of the internal topic.
func (sl *Slot[M]) Partition() int32 { return sl.partition }

// Epoch is the leader epoch of the partition the slot loaded for.
func (sl *Slot[M]) Epoch() model.LeaderEpoch { return sl.lead.Epoch }

// Context is done once the slot is unloaded.
func (sl *Slot[M]) Context() context.Context { return sl.ctx }

// Ready is closed once the slot is loaded.
func (sl *Slot[M]) Ready() <-chan struct{} { return sl.ready }

// Submit is Shard.Submit with the slot's machine: op runs now, the wait
// blocks until its effects are durable. A slot not loaded yet answers
// ErrClosed.
func (sl *Slot[M]) Submit(op func(m M, w *Writer)) (wait func() error) {
	select {
	case <-sl.ready:
	default:
		return func() error { return ErrClosed }
	}
	return sl.shard.Submit(func(w *Writer) { op(sl.machine, w) })
}

// Run is Submit and its wait.
func (sl *Slot[M]) Run(op func(m M, w *Writer)) error { return sl.Submit(op)() }
