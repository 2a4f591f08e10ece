package config

import (
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Topic is the effective configuration of one topic: its overrides on top
// of the broker defaults. Times are in milliseconds and sizes in bytes, as
// Kafka names them; -1 means "no limit" where Kafka says so. A Topic is a
// plain value (copy it freely); it is safe for concurrent reads.
type Topic struct {
	CleanupPolicy            []string // "delete", "compact", both, or none
	CompressionType          string   // uncompressed, zstd, lz4, snappy, gzip, producer
	CompressionGzipLevel     int32
	CompressionLz4Level      int32
	CompressionZstdLevel     int32
	DeleteRetentionMs        int64
	FileDeleteDelayMs        int64
	FlushMessages            int64
	FlushMs                  int64
	IndexIntervalBytes       int32
	LocalRetentionBytes      int64
	LocalRetentionMs         int64
	MaxCompactionLagMs       int64
	MaxMessageBytes          int32
	MessageTimestampType     string // CreateTime or LogAppendTime
	TimestampAfterMaxMs      int64
	TimestampBeforeMaxMs     int64
	MinCleanableDirtyRatio   float64
	MinCompactionLagMs       int64
	MinInsyncReplicas        int32
	Preallocate              bool
	RemoteStorageEnable      bool
	RemoteLogCopyDisable     bool
	RemoteLogDeleteOnDisable bool
	RetentionBytes           int64
	RetentionMs              int64
	SegmentBytes             int32
	SegmentIndexBytes        int32
	SegmentJitterMs          int64
	SegmentMs                int64
	UncleanLeaderElection    bool
	WriteCaching             bool

	LeaderReplicationThrottledReplicas   []string
	FollowerReplicationThrottledReplicas []string
}

// Compact reports whether cleanup.policy includes compact.
func (t *Topic) Compact() bool { return slices.Contains(t.CleanupPolicy, "compact") }

// Delete reports whether cleanup.policy includes delete.
func (t *Topic) Delete() bool { return slices.Contains(t.CleanupPolicy, "delete") }

// LogAppendTime reports whether the broker stamps record timestamps.
func (t *Topic) LogAppendTime() bool { return t.MessageTimestampType == "LogAppendTime" }

func (t Topic) clone() Topic {
	t.CleanupPolicy = slices.Clone(t.CleanupPolicy)
	t.LeaderReplicationThrottledReplicas = slices.Clone(t.LeaderReplicationThrottledReplicas)
	t.FollowerReplicationThrottledReplicas = slices.Clone(t.FollowerReplicationThrottledReplicas)
	return t
}

// ValidateTopicConfigs checks a topic's overrides on their own, as
// CreateTopics and AlterConfigs must: every key must be a topic key (else
// "Unknown topic config name: x"), every value valid, and the values must
// agree with each other. Keys Kafka 4 ignores are accepted. The error is an
// *Error naming the key; handlers answer INVALID_CONFIG with its message.
// ResolveTopic runs the same checks plus those against broker defaults.
func ValidateTopicConfigs(overrides map[string]string) error {
	keys := slices.Sorted(maps.Keys(overrides))
	for _, k := range keys { // names first, as Kafka does
		if _, ok := TopicDef(k); !ok && !ignoredTopicKeys[k] {
			return unknownTopicKey(k)
		}
	}
	for _, k := range keys {
		if d, ok := TopicDef(k); ok {
			if err := d.Check(overrides[k]); err != nil {
				return err
			}
		}
	}
	lag := func(k string) int64 {
		if v, ok := overrides[k]; ok {
			return parseInt(v)
		}
		d, _ := TopicDef(k)
		return parseInt(d.Default)
	}
	return checkCompactionLag(lag("min.compaction.lag.ms"), lag("max.compaction.lag.ms"))
}

func checkCompactionLag(min, max int64) error {
	if min > max {
		return conflict("min.compaction.lag.ms", "conflict topic config setting min.compaction.lag.ms (%d) > max.compaction.lag.ms (%d)", min, max)
	}
	return nil
}

// ResolveTopic returns the effective config of a topic with the given
// overrides on broker b (nil b means the zero-config broker). It validates
// the overrides as ValidateTopicConfigs does, and their combination with
// the broker defaults.
func ResolveTopic(b *Broker, overrides map[string]string) (Topic, error) {
	if b == nil {
		b = sharedDefault()
	}
	if len(overrides) == 0 {
		return b.TopicDefaults(), nil
	}
	return resolveTopic(b, overrides)
}

func resolveTopic(b *Broker, overrides map[string]string) (Topic, error) {
	if err := ValidateTopicConfigs(overrides); err != nil {
		return Topic{}, err
	}
	var t Topic
	for _, d := range topicTable.list {
		v, _ := topicValue(b, d, overrides)
		t.set(d.Name, v)
	}
	if err := checkCompactionLag(t.MinCompactionLagMs, t.MaxCompactionLagMs); err != nil {
		return Topic{}, err
	}
	if t.RemoteStorageEnable && !b.Bool("remote.log.storage.system.enable") {
		return Topic{}, &Error{Key: "remote.storage.enable", Value: "true", Kind: ErrInvalidValue,
			Message: "Tiered Storage functionality is disabled in the broker. Topic cannot be configured with remote log storage."}
	}
	return t, nil
}

// topicValue returns the effective value of topic key d and its source:
// the topic override, else the first broker synonym that has a value (in
// any layer), converted to the topic key's unit, else d's default.
func topicValue(b *Broker, d *Def, overrides map[string]string) (string, Source) {
	if v, ok := overrides[d.Name]; ok {
		return d.Canonical(v), SourceDynamicTopic
	}
	for _, name := range d.Synonyms {
		if v, src, ok := b.Lookup(name); ok {
			return convertSynonym(d.Name, name, v), src
		}
	}
	return d.Default, SourceDefault
}

// convertSynonym turns a broker value into the unit of topic key topic:
// log.*.hours and log.*.minutes become milliseconds, and any negative
// retention means -1 (unlimited), as KafkaConfig.logRetentionTimeMillis.
func convertSynonym(topic, broker, v string) string {
	var scale int64
	switch {
	case strings.HasSuffix(broker, ".hours"):
		scale = 3_600_000
	case strings.HasSuffix(broker, ".minutes"):
		scale = 60_000
	case topic == "retention.ms":
		scale = 1
	default:
		return v
	}
	n := parseInt(v) * scale
	if topic == "retention.ms" && n < 0 {
		n = -1
	}
	return strconv.FormatInt(n, 10)
}

// set assigns one validated value; it reports false for a key it does not
// know (a test keeps it in step with topicDefs).
func (t *Topic) set(name, v string) bool {
	i32 := func() int32 { return int32(parseInt(v)) }
	switch name {
	case "cleanup.policy":
		t.CleanupPolicy = splitList(v)
	case "compression.type":
		t.CompressionType = v
	case "compression.gzip.level":
		t.CompressionGzipLevel = i32()
	case "compression.lz4.level":
		t.CompressionLz4Level = i32()
	case "compression.zstd.level":
		t.CompressionZstdLevel = i32()
	case "delete.retention.ms":
		t.DeleteRetentionMs = parseInt(v)
	case "file.delete.delay.ms":
		t.FileDeleteDelayMs = parseInt(v)
	case "flush.messages":
		t.FlushMessages = parseInt(v)
	case "flush.ms":
		t.FlushMs = parseInt(v)
	case "follower.replication.throttled.replicas":
		t.FollowerReplicationThrottledReplicas = splitList(v)
	case "index.interval.bytes":
		t.IndexIntervalBytes = i32()
	case "leader.replication.throttled.replicas":
		t.LeaderReplicationThrottledReplicas = splitList(v)
	case "local.retention.bytes":
		t.LocalRetentionBytes = parseInt(v)
	case "local.retention.ms":
		t.LocalRetentionMs = parseInt(v)
	case "max.compaction.lag.ms":
		t.MaxCompactionLagMs = parseInt(v)
	case "max.message.bytes":
		t.MaxMessageBytes = i32()
	case "message.timestamp.after.max.ms":
		t.TimestampAfterMaxMs = parseInt(v)
	case "message.timestamp.before.max.ms":
		t.TimestampBeforeMaxMs = parseInt(v)
	case "message.timestamp.type":
		t.MessageTimestampType = v
	case "min.cleanable.dirty.ratio":
		t.MinCleanableDirtyRatio = parseDouble(v)
	case "min.compaction.lag.ms":
		t.MinCompactionLagMs = parseInt(v)
	case "min.insync.replicas":
		t.MinInsyncReplicas = i32()
	default:
		return t.setRest(name, v)
	}
	return true
}

func (t *Topic) setRest(name, v string) bool {
	switch name {
	case "preallocate":
		t.Preallocate = parseBool(v)
	case "remote.log.copy.disable":
		t.RemoteLogCopyDisable = parseBool(v)
	case "remote.log.delete.on.disable":
		t.RemoteLogDeleteOnDisable = parseBool(v)
	case "remote.storage.enable":
		t.RemoteStorageEnable = parseBool(v)
	case "retention.bytes":
		t.RetentionBytes = parseInt(v)
	case "retention.ms":
		t.RetentionMs = parseInt(v)
	case "segment.bytes":
		t.SegmentBytes = int32(parseInt(v))
	case "segment.index.bytes":
		t.SegmentIndexBytes = int32(parseInt(v))
	case "segment.jitter.ms":
		t.SegmentJitterMs = parseInt(v)
	case "segment.ms":
		t.SegmentMs = parseInt(v)
	case "sluice.write.caching":
		t.WriteCaching = parseBool(v)
	case "unclean.leader.election.enable":
		t.UncleanLeaderElection = parseBool(v)
	default:
		return false
	}
	return true
}
