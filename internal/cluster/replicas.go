// Package cluster is the broker side of the metadata: it reconciles the
// partition replicas hosted on this broker with each new metadata image
// (open or create logs for assigned partitions, apply config changes,
// delete the logs of deleted topics) and runs the periodic log
// maintenance (retention, time-based roll).
//
// Replicas is safe for concurrent use: lookups read an immutable map that
// the reconciler swaps atomically.
package cluster

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluice-io/sluice/internal/metadata"
	"github.com/sluice-io/sluice/internal/model"
	"github.com/sluice-io/sluice/internal/replica"
	"github.com/sluice-io/sluice/internal/storage"
)

// Resolver turns a topic's config overrides into the partition config,
// filling in the broker defaults in force for the image (the static
// config with the image's dynamic broker configs).
type Resolver func(im *metadata.Image, overrides map[string]string) replica.Config

// Replicas holds this broker's partition replicas. Safe for concurrent use.
type Replicas struct {
	node    model.NodeID
	dir     string
	resolve Resolver
	log     *slog.Logger

	parts atomic.Pointer[map[model.TopicPartition]*replica.Partition]

	mu sync.Mutex // serializes Reconcile, Close and the HW checkpoint
	// fetchers replicate the partitions this broker follows (nil: none
	// is fetched, as in tests of the reconciler alone).
	fetchers *Fetchers
	// isr sends the ISR proposals of the partitions this broker leads
	// (nil: none is proposed).
	isr *ISRProposer
	// lease is this broker's controller lease (replica.SetLease), nil
	// for none.
	lease func() bool
	// hws is the HW checkpoint read at start: a replica opened later
	// starts at its entry (log start without one). Guarded by mu.
	hws map[model.TopicPartition]model.Offset
}

// New returns an empty set of replicas storing logs under dir. It reads
// dir's high watermark checkpoint; an unreadable one is logged and
// treated as empty (every replica then starts at its log start offset
// and waits for its leader or followers to move it).
func New(node model.NodeID, dir string, resolve Resolver, log *slog.Logger) *Replicas {
	r := &Replicas{node: node, dir: dir, resolve: resolve, log: log}
	r.parts.Store(&map[model.TopicPartition]*replica.Partition{})
	hws, err := storage.ReadHWCheckpoint(dir)
	if err != nil {
		log.Error("high watermark checkpoint unreadable; replicas start at their log start", "err", err)
		hws = map[model.TopicPartition]model.Offset{}
	}
	r.hws = hws
	return r
}

// SetFetchers makes the replicas this broker follows replicate through
// f. Call it before the first Reconcile.
func (r *Replicas) SetFetchers(f *Fetchers) { r.fetchers = f }

// SetISRProposer makes the partitions this broker leads propose ISR
// changes through p. Call it before the first Reconcile.
func (r *Replicas) SetISRProposer(p *ISRProposer) { r.isr = p }

// SetLease gives every partition this broker's controller lease
// (replica.Partition.SetLease). Call it before the first Reconcile.
func (r *Replicas) SetLease(held func() bool) { r.lease = held }

// CheckpointHighWatermarks writes every replica's high watermark to the
// data directory's checkpoint (replica.high.watermark.checkpoint.interval.ms,
// and at Close).
func (r *Replicas) CheckpointHighWatermarks() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.checkpointLocked(*r.parts.Load())
}

func (r *Replicas) checkpointLocked(parts map[model.TopicPartition]*replica.Partition) error {
	hws := make(map[model.TopicPartition]model.Offset, len(parts))
	for tp, p := range parts {
		hws[tp] = p.HighWatermark()
	}
	return storage.WriteHWCheckpoint(r.dir, hws)
}

// Get returns the local replica of tp, or nil.
func (r *Replicas) Get(tp model.TopicPartition) *replica.Partition {
	return (*r.parts.Load())[tp]
}

// All returns every local replica (a snapshot).
func (r *Replicas) All() map[model.TopicPartition]*replica.Partition { return *r.parts.Load() }

// Reconcile is the metadata listener: it makes the local replicas match
// next. It runs synchronously inside the metadata apply, so once a topic
// creation commits its logs exist.
func (r *Replicas) Reconcile(prev, next *metadata.Image) {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := *r.parts.Load()
	cur := make(map[model.TopicPartition]*replica.Partition, len(old))
	var toOpen []pendingOpen
	// A change of the dynamic broker configs may change every topic's
	// defaults: every partition is resolved again.
	brokerChanged := !maps.EqualFunc(prev.BrokerConfigs, next.BrokerConfigs, maps.Equal[map[string]string])
	for _, t := range next.Topics {
		var cfg *replica.Config
		for i, p := range t.Partitions {
			if !hosts(p.Replicas, r.node) {
				continue
			}
			tp := model.TopicPartition{Topic: t.Name, Partition: int32(i)}
			if cfg == nil {
				c := r.resolve(next, t.Configs)
				cfg = &c
			}
			part := old[tp]
			if part != nil && part.TopicID != t.ID {
				r.remove(part) // the topic was deleted and created again
				part = nil
			}
			if part == nil {
				toOpen = append(toOpen, pendingOpen{tp: tp, id: t.ID, cfg: cfg, state: p})
				continue
			}
			if pt := prev.Topics[t.Name]; brokerChanged || pt == nil || !maps.Equal(pt.Configs, t.Configs) {
				part.SetConfig(*cfg)
			}
			r.lead(next, part, p)
			cur[tp] = part
		}
	}
	for _, o := range r.openAll(next, toOpen) {
		cur[o.tp] = o.part
	}
	for tp, part := range old {
		if cur[tp] == nil {
			r.remove(part)
		}
	}
	r.parts.Store(&cur)
}

// pendingOpen is a partition whose log Reconcile must open or create.
type pendingOpen struct {
	tp    model.TopicPartition
	id    model.TopicID
	cfg   *replica.Config
	state metadata.Partition
	part  *replica.Partition // set by openAll
}

// lead applies the image's leadership of a hosted partition: this
// broker leads it or follows its leader. A failure to record the new
// leader epoch (the log failed) leaves the replica as it was.
func (r *Replicas) lead(im *metadata.Image, part *replica.Partition, p metadata.Partition) {
	now := time.Now().UnixMilli()
	if p.Leader != r.node {
		part.MakeFollower(replica.FollowerState{LeaderEpoch: p.LeaderEpoch, PartitionEpoch: p.Epoch}, now)
		if r.fetchers != nil {
			r.fetchers.Follow(part, p.Leader, part.LeaderEpoch())
		}
		return
	}
	if r.fetchers != nil {
		r.fetchers.Unfollow(part.TP)
	}
	var ineligible []model.NodeID
	for _, id := range p.Replicas {
		if b := im.Brokers[id]; b == nil || b.Fenced {
			ineligible = append(ineligible, id)
		}
	}
	_, err := part.MakeLeader(replica.LeaderState{Local: r.node, LeaderEpoch: p.LeaderEpoch,
		PartitionEpoch: p.Epoch, Replicas: p.Replicas, ISR: p.ISR, Ineligible: ineligible, Recovering: p.Recovering}, now)
	if err != nil {
		r.log.Error("become leader", "partition", part.TP, "err", err)
	}
}

// openAll opens the logs in parallel (recovery after a crash is CPU-bound
// CRC work, per partition) and returns those that opened.
func (r *Replicas) openAll(im *metadata.Image, todo []pendingOpen) []pendingOpen {
	workers := min(len(todo), 2*runtime.GOMAXPROCS(0))
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				o := &todo[i]
				part, err := r.open(o.tp, o.id, *o.cfg, o.state.LeaderEpoch)
				if err != nil {
					r.log.Error("open partition log", "partition", o.tp, "err", err)
					continue
				}
				part.RestoreHighWatermark(r.hws[o.tp]) // no entry: 0, raised to the log start
				if r.isr != nil {
					part.SetISRProposer(r.isr.Propose)
				}
				if r.lease != nil {
					part.SetLease(r.lease)
				}
				r.lead(im, part, o.state)
				o.part = part
			}
		}()
	}
	for i := range todo {
		next <- i
	}
	close(next)
	wg.Wait()
	opened := todo[:0]
	for _, o := range todo {
		if o.part != nil {
			opened = append(opened, o)
		}
	}
	return opened
}

func hosts(replicas []model.NodeID, id model.NodeID) bool {
	for _, n := range replicas {
		if n == id {
			return true
		}
	}
	return false
}

// open opens the partition's log, or creates it. A directory left by an
// earlier topic of the same name (another topic id) is removed first.
func (r *Replicas) open(tp model.TopicPartition, id model.TopicID, cfg replica.Config, epoch model.LeaderEpoch) (*replica.Partition, error) {
	dir := filepath.Join(r.dir, tp.String())
	log, err := storage.Open(dir, cfg.Storage)
	switch {
	case err == nil && log.TopicID() != id:
		if err := log.Delete(); err != nil {
			return nil, fmt.Errorf("remove stale log of %s: %w", tp, err)
		}
		log, err = storage.Create(dir, id, cfg.Storage)
	case errors.Is(err, os.ErrNotExist):
		log, err = storage.Create(dir, id, cfg.Storage)
	}
	if err != nil {
		return nil, err
	}
	return replica.New(tp, log, cfg, epoch), nil
}

func (r *Replicas) remove(p *replica.Partition) {
	if r.fetchers != nil {
		r.fetchers.Unfollow(p.TP)
	}
	if err := p.Log().Delete(); err != nil {
		r.log.Error("delete partition log", "partition", p.TP, "err", err)
	}
}

// closeWorkers is how many logs Close closes at once: a log's Close waits
// on fsyncs, and concurrent ones share the file system's journal commits.
const closeWorkers = 16

// Close closes every log cleanly (flushes and checkpoints), several at a
// time, then writes the high watermark checkpoint.
func (r *Replicas) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	parts := *r.parts.Load()
	defer func() {
		if err := r.checkpointLocked(parts); err != nil {
			r.log.Error("high watermark checkpoint", "err", err)
		}
	}()
	next := make(chan *replica.Partition)
	errs := make(chan error, len(parts))
	var wg sync.WaitGroup
	for range min(len(parts), closeWorkers) {
		wg.Go(func() {
			for p := range next {
				if err := p.Log().Close(); err != nil {
					errs <- fmt.Errorf("close %s: %w", p.TP, err)
				}
			}
		})
	}
	for _, p := range parts {
		next <- p
	}
	close(next)
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	r.parts.Store(&map[model.TopicPartition]*replica.Partition{})
	return errors.Join(all...)
}
