// Package replica is one partition replica on this broker: it owns the
// partition's log, validates and appends produced batches, serves reads up
// to the high watermark, and wakes long-polling fetches when data arrives.
//
// A replica leads its partition or follows another broker's replica
// (leadership.go): the leader tracks its followers' fetches and derives
// the high watermark from the in-sync replicas; a follower appends what
// it fetched (follower.go). With one replica the leader alone is the ISR
// and the high watermark is the log end offset.
//
// Partition is safe for concurrent use. Appends of every kind (plain,
// idempotent, transactional, markers, coordinator batches) are serialized
// by the partition's append lock, held across the producer checks, the
// log append, the producer and transaction state update and the
// publication of the read view (read_view.go): readers see the high
// watermark and the last stable offset move together, and only once
// every effect of the batches below them is in place.
package replica

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/sluice-io/sluice/internal/batch"
	"github.com/sluice-io/sluice/internal/model"
	"github.com/sluice-io/sluice/internal/storage"
)

// Sentinel errors, mapped to Kafka codes at the protocol edge.
var (
	// ErrMessageTooLarge: a batch over max.message.bytes. Kafka:
	// MESSAGE_TOO_LARGE.
	ErrMessageTooLarge = errors.New("record batch larger than max.message.bytes")
	// ErrNotLeader: this broker does not lead the partition.
	ErrNotLeader = errors.New("not the leader")
	// ErrInvalidProducerEpoch: a batch from an older epoch of its producer
	// id (producer_state.go). Kafka: INVALID_PRODUCER_EPOCH.
	ErrInvalidProducerEpoch = errors.New("producer epoch is older than the current one")
	// ErrOutOfOrderSequence: a batch whose sequence does not follow the
	// producer's last one. Kafka: OUT_OF_ORDER_SEQUENCE_NUMBER.
	ErrOutOfOrderSequence = errors.New("out of order sequence number")
	// ErrInvalidTxnState: a non-transactional batch from a producer with an
	// open transaction. Kafka: INVALID_TXN_STATE.
	ErrInvalidTxnState = errors.New("invalid transaction state")
	// ErrTransactionCoordinatorFenced: a transaction marker from an older
	// coordinator epoch than the last one seen. Kafka:
	// TRANSACTION_COORDINATOR_FENCED.
	ErrTransactionCoordinatorFenced = errors.New("transaction coordinator fenced")
)

// Config is what a partition reads from its topic's config.
type Config struct {
	Storage              storage.Config
	MaxMessageBytes      int32
	LogAppendTime        bool  // message.timestamp.type=LogAppendTime
	TimestampBeforeMaxMs int64 // message.timestamp.before.max.ms
	TimestampAfterMaxMs  int64 // message.timestamp.after.max.ms
	MinInsyncReplicas    int32
	// Codec is the topic's compression.type as a batch codec, or -1 for
	// "producer" (store batches as they come).
	Codec int
	// ProducerIDExpirationMs is the broker's producer.id.expiration.ms;
	// 0 means the default (DefaultProducerIDExpirationMs).
	ProducerIDExpirationMs int64
	// ReplicaLagTimeMaxMs is the broker's replica.lag.time.max.ms: a
	// follower that had everything within it is caught up; 0 means the
	// default (DefaultReplicaLagTimeMaxMs).
	ReplicaLagTimeMaxMs int64
	// WriteCaching (sluice.write.caching) answers acks=all once the batch
	// is appended, without waiting for its fsync: Kafka's own trade-off,
	// durability on a power cut for latency.
	WriteCaching bool
}

// Partition is a local replica. Safe for concurrent use.
type Partition struct {
	TP      model.TopicPartition
	TopicID model.TopicID
	log     *storage.Log

	cfg         atomic.Pointer[Config]
	leaderEpoch atomic.Int32

	// appendMu serializes appends with the state they update: prod, txn
	// and the publication of view. Lock order: appendMu, then the log's
	// locks.
	appendMu sync.Mutex
	// wakeOwed: a publication moved the read view (HW or LSO), or a
	// follower appended fetched bytes, while appendMu was held;
	// unlockAppend wakes the watchers once it is released (they may take
	// appendMu: a follower's fetch records its progress). Guarded by
	// appendMu.
	wakeOwed bool
	prod     producers  // idempotent producer state (partition_producers.go); guarded by appendMu
	txn      txnState   // transactions: last stable offset, KIP-890 guards (partition_txn.go); guarded by appendMu
	view     readView   // what readers see; stored under appendMu, loaded without it
	lead     leadership // role, followers, high watermark (leadership.go); guarded by appendMu

	watching atomic.Int32 // len(watchers), read without the lock on append
	mu       sync.Mutex
	watchers map[Watcher]struct{} // guarded by mu
}

// New wraps an open log.
func New(tp model.TopicPartition, log *storage.Log, cfg Config, epoch model.LeaderEpoch) *Partition {
	p := &Partition{TP: tp, TopicID: log.TopicID(), log: log}
	p.txn.firstUnstable, p.txn.ceiling = -1, -1
	p.lead.epochStart = -1
	p.setSizesLocked() // a leader alone until told otherwise; not shared yet
	p.cfg.Store(&cfg)
	p.leaderEpoch.Store(int32(epoch))
	p.initProducers()
	return p
}

// Log returns the partition's log.
func (p *Partition) Log() *storage.Log { return p.log }

// Config returns the current config.
func (p *Partition) Config() *Config { return p.cfg.Load() }

// SetConfig applies a changed topic config.
func (p *Partition) SetConfig(cfg Config) {
	p.cfg.Store(&cfg)
	p.log.SetConfig(cfg.Storage)
}

// LeaderEpoch is the current leader epoch.
func (p *Partition) LeaderEpoch() model.LeaderEpoch { return model.LeaderEpoch(p.leaderEpoch.Load()) }

// HighWatermark is the offset up to which consumers may read: every
// in-sync replica holds the records below it (leadership.go), and every
// effect of those records is published.
// Invariant: HighWatermark <= LogEndOffset.
func (p *Partition) HighWatermark() model.Offset {
	hw, _ := p.view.load()
	return hw
}

// ReadView returns the high watermark and the last stable offset as one
// snapshot: a fetch answers with both and reads below them. DeleteRecords
// or retention may have moved the log start past an open transaction's
// first offset; the LSO then follows the log start, as Kafka's UnifiedLog
// clamps the first unstable offset.
// Invariant: LogStartOffset <= lso <= hw (as long as the log start is at
// most the high watermark, which DeleteRecords checks).
func (p *Partition) ReadView() (hw, lso model.Offset) {
	hw, lso = p.view.load()
	if start := p.log.LogStartOffset(); lso < start {
		lso = min(start, hw)
	}
	return hw, lso
}

// LogStartOffset is the first offset still stored.
func (p *Partition) LogStartOffset() model.Offset { return p.log.LogStartOffset() }

// LogEndOffset is the offset the next batch will get.
func (p *Partition) LogEndOffset() model.Offset { return p.log.LogEndOffset() }

// Append validates one produced batch and appends it as received, with
// offsets assigned in place. It returns the base offset and, for
// LogAppendTime topics, the broker timestamp (else -1).
func (p *Partition) Append(b []byte, nowMs int64) (model.Offset, int64, error) {
	base, ts, err := p.AppendHeld(b, nowMs, AppendOptions{})
	if err == nil {
		p.wake()
	}
	return base, ts, err
}

// Wake signals the watchers (after AppendHeld).
func (p *Partition) Wake() { p.wake() }

// AppendHeld is Append that leaves the watchers asleep: the caller calls
// Wake once the rest of its request is appended, so a long-polling fetch
// wakes once and reads every partition the produce wrote (Kafka completes
// delayed fetches after the whole produce) instead of answering with the
// first and fetching again.
func (p *Partition) AppendHeld(b []byte, nowMs int64, opts AppendOptions) (model.Offset, int64, error) {
	cfg := p.cfg.Load()
	if len(b) > int(cfg.MaxMessageBytes) {
		return 0, -1, fmt.Errorf("%w: %d > %d bytes", ErrMessageTooLarge, len(b), cfg.MaxMessageBytes)
	}
	h, err := batch.Validate(b)
	if err != nil {
		return 0, -1, err
	}
	if h.IsControl() {
		return 0, -1, fmt.Errorf("%w: control batches are written by the broker only", batch.ErrInvalid)
	}
	// Every record, as Kafka's LogValidator (partition_validate.go).
	b, appendTime, err := prepareProduced(b, cfg, nowMs)
	if err != nil {
		return 0, -1, err
	}
	if h.ProducerID() >= 0 {
		// Idempotent or transactional: sequence checks and de-duplication,
		// atomic with the append (partition_producers.go).
		return p.appendIdempotent(b, appendTime, nowMs, opts)
	}
	base, err := p.appendPlain(b, nowMs, opts.AcksAll)
	if err != nil {
		return 0, -1, err
	}
	return base, appendTime, nil
}

// AppendOptions qualify the append of a produced batch.
type AppendOptions struct {
	// Guard is that of a transactional batch checked with
	// BeginTxnVerification, 0 for none: such a batch is refused with
	// ErrInvalidTxnState when a marker ended the producer's transaction
	// since.
	Guard TxnGuard
	// AcksAll refuses the batch with ErrNotEnoughReplicas, before
	// anything is written, while the ISR is under the min ISR.
	AcksAll bool
}

// appendPlain appends a batch without a producer id and publishes it.
func (p *Partition) appendPlain(b []byte, nowMs int64, acksAll bool) (model.Offset, error) {
	p.appendMu.Lock()
	defer p.unlockHeld()
	if err := p.checkLeaderLocked(acksAll); err != nil {
		return -1, err
	}
	base, err := p.log.Append(b, p.LeaderEpoch())
	if base >= 0 {
		// Also after a failed flush.messages fsync: the batch is in the log.
		p.publishLocked(nowMs)
	}
	p.snapshotIfRolledLocked()
	return base, err
}

// WaitDurable blocks until every offset below end is fsynced on this
// broker; WaitCommitted is acks=all.
func (p *Partition) WaitDurable(ctx context.Context, end model.Offset) error {
	return p.log.WaitDurable(ctx, end)
}

// A Watcher is told of appends to the partitions it watches. Wake runs on
// the appending goroutine, after the append and with no partition lock
// held: it may call Unwatch, and it must not block.
type Watcher interface{ Wake() }

// Watch makes every append (and every Wake) call w.Wake until Unwatch(w).
// Long-polling fetches wait this way, one watcher for all the partitions
// they read.
func (p *Partition) Watch(w Watcher) {
	p.mu.Lock()
	if p.watchers == nil {
		p.watchers = map[Watcher]struct{}{}
	}
	p.watchers[w] = struct{}{}
	p.watching.Store(int32(len(p.watchers)))
	p.mu.Unlock()
}

// Unwatch ends a Watch(w).
func (p *Partition) Unwatch(w Watcher) {
	p.mu.Lock()
	delete(p.watchers, w)
	p.watching.Store(int32(len(p.watchers)))
	p.mu.Unlock()
}

// unlockAppend releases appendMu and then wakes the watchers when the
// read view moved meanwhile: a fetch waiting for committed records
// learns of a high watermark moved by a follower's fetch, an ISR change
// or a marker, not only of appends.
func (p *Partition) unlockAppend() {
	owed := p.wakeOwed
	p.wakeOwed = false
	p.appendMu.Unlock()
	if owed {
		p.wake()
	}
}

// unlockHeld releases appendMu after an append whose caller wakes the
// watchers itself (AppendHeld, markers), once for all it appended.
func (p *Partition) unlockHeld() {
	p.wakeOwed = false
	p.appendMu.Unlock()
}

// wake calls the watchers outside p.mu, so a watcher may Unwatch (or read
// this partition) from its Wake.
func (p *Partition) wake() {
	if p.watching.Load() == 0 {
		return
	}
	var few [8]Watcher
	ws := few[:0]
	p.mu.Lock()
	for w := range p.watchers {
		ws = append(ws, w)
	}
	p.mu.Unlock()
	for _, w := range ws {
		w.Wake()
	}
}

// Read returns whole batches from the log starting at the batch that holds
// from, bounded by maxBytes and the high watermark.
func (p *Partition) Read(from model.Offset, maxBytes int32, minOneBatch bool) (storage.Chunk, error) {
	return p.log.ReadUpTo(from, p.HighWatermark(), maxBytes, minOneBatch)
}
