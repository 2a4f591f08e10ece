package txn

import (
	"log/slog"
	"time"

	"github.com/sluice-io/sluice/internal/config"
	"github.com/sluice-io/sluice/internal/coord/runtime"
	"github.com/sluice-io/sluice/internal/model"
)

// TopicName is the internal topic that holds transactional ids' state.
const TopicName = model.TransactionStateTopic

// Options are the transaction coordinator's settings, named after
// Kafka's broker configs.
type Options struct {
	NodeID model.NodeID
	// TopicPartitions is transaction.state.log.num.partitions: the
	// partitions __transaction_state is created with.
	TopicPartitions int32
	// TopicReplicationFactor is transaction.state.log.replication.factor;
	// fewer live brokers lower it.
	TopicReplicationFactor int16
	// TopicSegmentBytes is transaction.state.log.segment.bytes.
	TopicSegmentBytes int32
	// TopicMinISR is transaction.state.log.min.isr.
	TopicMinISR int32
	// MaxTimeout is transaction.max.timeout.ms: the longest
	// transaction.timeout.ms a producer may ask for.
	MaxTimeout time.Duration
	// IDExpiration is transactional.id.expiration.ms: an id without a
	// transaction for this long is forgotten.
	IDExpiration time.Duration
	// AbortTimedOutInterval is
	// transaction.abort.timed.out.transaction.cleanup.interval.ms.
	AbortTimedOutInterval time.Duration
	// RemoveExpiredInterval is
	// transaction.remove.expired.transaction.cleanup.interval.ms.
	RemoveExpiredInterval time.Duration
	// VerifyPartitions is transaction.partition.verification.enable
	// (KIP-890 part 1), read by the produce path.
	VerifyPartitions bool
	// MarkerRetryBackoff is how long a failed marker write waits before
	// it is tried again.
	MarkerRetryBackoff time.Duration
	// CompletionWait bounds how long EndTxn waits for the markers before
	// it answers (the outcome is decided once PrepareCommit or
	// PrepareAbort is durable).
	CompletionWait time.Duration
	// Clock drives timers; nil is the wall clock.
	Clock  runtime.Clock
	Logger *slog.Logger
}

// DefaultOptions are Kafka's defaults.
func DefaultOptions() Options {
	return Options{
		NodeID:                 1,
		TopicPartitions:        50,
		TopicReplicationFactor: 3,
		TopicSegmentBytes:      100 << 20,
		TopicMinISR:            2,
		MaxTimeout:             15 * time.Minute,
		IDExpiration:           7 * 24 * time.Hour,
		AbortTimedOutInterval:  10 * time.Second,
		RemoveExpiredInterval:  time.Hour,
		VerifyPartitions:       true,
		MarkerRetryBackoff:     100 * time.Millisecond,
		CompletionWait:         10 * time.Second,
	}
}

// OptionsFromConfig takes the transaction settings of a broker config.
func OptionsFromConfig(cfg *config.Broker) Options {
	o := DefaultOptions()
	o.NodeID = cfg.NodeID
	o.TopicPartitions = cfg.TransactionStateLogNumPartitions
	o.TopicReplicationFactor = cfg.TransactionStateLogReplicationFactor
	o.TopicSegmentBytes = cfg.TransactionStateLogSegmentBytes
	o.TopicMinISR = cfg.TransactionStateLogMinISR
	o.MaxTimeout = time.Duration(cfg.TransactionMaxTimeoutMs) * time.Millisecond
	o.IDExpiration = time.Duration(cfg.TransactionalIDExpirationMs) * time.Millisecond
	o.AbortTimedOutInterval = time.Duration(cfg.Int("transaction.abort.timed.out.transaction.cleanup.interval.ms")) * time.Millisecond
	o.RemoveExpiredInterval = time.Duration(cfg.Int("transaction.remove.expired.transaction.cleanup.interval.ms")) * time.Millisecond
	o.VerifyPartitions = cfg.Bool("transaction.partition.verification.enable")
	return o
}

func (o *Options) normalize() {
	runtime.DefaultClockLogger(&o.Clock, &o.Logger)
	d := DefaultOptions()
	runtime.Default(&o.TopicPartitions, d.TopicPartitions)
	runtime.Default(&o.TopicReplicationFactor, d.TopicReplicationFactor)
	runtime.Default(&o.TopicSegmentBytes, d.TopicSegmentBytes)
	runtime.Default(&o.MaxTimeout, d.MaxTimeout)
	runtime.Default(&o.IDExpiration, d.IDExpiration)
	runtime.Default(&o.AbortTimedOutInterval, d.AbortTimedOutInterval)
	runtime.Default(&o.RemoveExpiredInterval, d.RemoveExpiredInterval)
	runtime.Default(&o.MarkerRetryBackoff, d.MarkerRetryBackoff)
	runtime.Default(&o.CompletionWait, d.CompletionWait)
}
