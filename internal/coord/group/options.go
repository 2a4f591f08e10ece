package group

import (
	"log/slog"
	"math"
	"slices"
	"time"

	"github.com/sluice-io/sluice/internal/config"
	"github.com/sluice-io/sluice/internal/coord/runtime"
	"github.com/sluice-io/sluice/internal/metadata"
	"github.com/sluice-io/sluice/internal/model"
)

// OffsetsTopic is the internal topic that holds groups and offsets.
const OffsetsTopic = model.OffsetsTopic

// Options are the group coordinator's settings, named after Kafka's
// broker configs.
type Options struct {
	NodeID model.NodeID
	// OffsetsTopicPartitions is offsets.topic.num.partitions: the
	// partitions __consumer_offsets is created with.
	OffsetsTopicPartitions int32
	// OffsetsTopicReplicationFactor is offsets.topic.replication.factor;
	// fewer live brokers lower it.
	OffsetsTopicReplicationFactor int16
	// OffsetsTopicSegmentBytes is offsets.topic.segment.bytes.
	OffsetsTopicSegmentBytes int32
	// InitialRebalanceDelay is group.initial.rebalance.delay.ms: how long
	// the first rebalance of an empty group waits for more members.
	InitialRebalanceDelay time.Duration
	// MinSessionTimeout and MaxSessionTimeout are
	// group.min.session.timeout.ms and group.max.session.timeout.ms.
	MinSessionTimeout time.Duration
	MaxSessionTimeout time.Duration
	// MaxGroupSize is group.max.size.
	MaxGroupSize int
	// OffsetMetadataMaxBytes is offset.metadata.max.bytes.
	OffsetMetadataMaxBytes int
	// OffsetsRetention is offsets.retention.minutes: how long the offsets
	// of an empty group are kept.
	OffsetsRetention time.Duration
	// OffsetsRetentionCheckInterval is offsets.retention.check.interval.ms.
	OffsetsRetentionCheckInterval time.Duration
	// NewMemberJoinTimeout bounds how long a new member's JoinGroup may
	// stay parked (Kafka's fixed 5 minutes).
	NewMemberJoinTimeout time.Duration
	// Consumer groups (KIP-848, consumer_group.go):
	// ConsumerHeartbeatInterval is group.consumer.heartbeat.interval.ms,
	// ConsumerSessionTimeout group.consumer.session.timeout.ms,
	// ConsumerMaxGroupSize group.consumer.max.size, ConsumerAssignors
	// group.consumer.assignors (the first is the default), and
	// DisableConsumerProtocol is "consumer" missing from
	// group.coordinator.rebalance.protocols.
	ConsumerHeartbeatInterval time.Duration
	ConsumerSessionTimeout    time.Duration
	ConsumerMaxGroupSize      int
	ConsumerAssignors         []string
	DisableConsumerProtocol   bool
	// metadataImage reads the current metadata (set by New): consumer
	// groups resolve subscriptions against it.
	metadataImage func() *metadata.Image
	// Clock drives timers; nil is the wall clock.
	Clock  runtime.Clock
	Logger *slog.Logger
}

// DefaultOptions are Kafka's defaults.
func DefaultOptions() Options {
	return Options{
		NodeID:                        1,
		OffsetsTopicPartitions:        50,
		OffsetsTopicReplicationFactor: 3,
		OffsetsTopicSegmentBytes:      100 << 20,
		InitialRebalanceDelay:         3 * time.Second,
		MinSessionTimeout:             6 * time.Second,
		MaxSessionTimeout:             30 * time.Minute,
		MaxGroupSize:                  math.MaxInt32,
		OffsetMetadataMaxBytes:        4096,
		OffsetsRetention:              7 * 24 * time.Hour,
		OffsetsRetentionCheckInterval: 10 * time.Minute,
		NewMemberJoinTimeout:          5 * time.Minute,
		ConsumerHeartbeatInterval:     5 * time.Second,
		ConsumerSessionTimeout:        45 * time.Second,
		ConsumerMaxGroupSize:          math.MaxInt32,
		ConsumerAssignors:             []string{"uniform", "range"},
	}
}

// OptionsFromConfig takes the group settings of a broker config.
func OptionsFromConfig(cfg *config.Broker) Options {
	o := DefaultOptions()
	o.NodeID = cfg.NodeID
	o.OffsetsTopicPartitions = cfg.OffsetsTopicNumPartitions
	o.OffsetsTopicReplicationFactor = cfg.OffsetsTopicReplicationFactor
	o.OffsetsTopicSegmentBytes = cfg.OffsetsTopicSegmentBytes
	o.InitialRebalanceDelay = time.Duration(cfg.GroupInitialRebalanceDelayMs) * time.Millisecond
	o.MinSessionTimeout = time.Duration(cfg.GroupMinSessionTimeoutMs) * time.Millisecond
	o.MaxSessionTimeout = time.Duration(cfg.GroupMaxSessionTimeoutMs) * time.Millisecond
	o.MaxGroupSize = int(cfg.GroupMaxSize)
	o.OffsetMetadataMaxBytes = int(cfg.OffsetMetadataMaxBytes)
	o.OffsetsRetention = time.Duration(cfg.OffsetsRetentionMs) * time.Millisecond
	o.OffsetsRetentionCheckInterval = time.Duration(cfg.OffsetsRetentionCheckIntervalMs) * time.Millisecond
	o.ConsumerHeartbeatInterval = time.Duration(cfg.Int("group.consumer.heartbeat.interval.ms")) * time.Millisecond
	o.ConsumerSessionTimeout = time.Duration(cfg.Int("group.consumer.session.timeout.ms")) * time.Millisecond
	o.ConsumerMaxGroupSize = int(cfg.Int("group.consumer.max.size"))
	o.ConsumerAssignors = cfg.List("group.consumer.assignors")
	o.DisableConsumerProtocol = !slices.Contains(cfg.GroupRebalanceProtocols, "consumer")
	return o
}

func (o *Options) normalize() {
	runtime.DefaultClockLogger(&o.Clock, &o.Logger)
	// Zero where zero cannot be meant is Kafka's default.
	d := DefaultOptions()
	runtime.Default(&o.OffsetsTopicPartitions, d.OffsetsTopicPartitions)
	runtime.Default(&o.OffsetsTopicReplicationFactor, d.OffsetsTopicReplicationFactor)
	runtime.Default(&o.OffsetsTopicSegmentBytes, d.OffsetsTopicSegmentBytes)
	runtime.Default(&o.MaxSessionTimeout, d.MaxSessionTimeout)
	runtime.Default(&o.OffsetsRetention, d.OffsetsRetention)
	runtime.Default(&o.OffsetsRetentionCheckInterval, d.OffsetsRetentionCheckInterval)
	runtime.Default(&o.NewMemberJoinTimeout, d.NewMemberJoinTimeout)
	runtime.Default(&o.MaxGroupSize, math.MaxInt32)
	o.normalizeConsumer(d) // consumer_options.go
}
