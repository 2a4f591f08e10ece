package config

// Topic keys: Kafka 4's topic configs (LogConfig) plus Sluice's
// sluice.write.caching. Each key's Synonyms are the broker keys that give
// it a default when a topic does not set it, highest precedence first
// (Kafka's ServerTopicConfigSynonyms). Defaults are what a topic gets when
// no broker key is set either.

// tdef builds a topic key.
func tdef(name string, t Type, dflt string, v func(string) error, doc string, synonyms ...string) Def {
	return Def{Name: name, Type: t, Default: dflt, HasDefault: true, Validate: v, Doc: doc, Synonyms: synonyms}
}

var topicDefs = []Def{
	tdef("cleanup.policy", TypeList, "delete", listOf(false, "compact", "delete"), "How old data is removed: delete drops old segments, compact keeps the latest record per key; both may be set, or neither to keep everything.", "log.cleanup.policy"),
	tdef("compression.type", TypeString, "producer", oneOf(compressionTypes...), "Codec of stored batches; producer keeps whatever the producer used, uncompressed stores plain batches.", "compression.type"),
	tdef("compression.gzip.level", TypeInt, "-1", levelOrDefault(1, 9), "Gzip level when compression.type is gzip; -1 is the codec default.", "compression.gzip.level"),
	tdef("compression.lz4.level", TypeInt, "9", between(1, 17), "LZ4 level when compression.type is lz4.", "compression.lz4.level"),
	tdef("compression.zstd.level", TypeInt, "3", between(-131072, 22), "Zstd level when compression.type is zstd.", "compression.zstd.level"),
	tdef("delete.retention.ms", TypeLong, "86400000", atLeast(0), "How long tombstones stay in a compacted topic, so slow readers still see deletes.", "log.cleaner.delete.retention.ms"),
	tdef("file.delete.delay.ms", TypeLong, "60000", atLeast(0), "Delay before a deleted segment's files leave the disk.", "log.segment.delete.delay.ms"),
	tdef("flush.messages", TypeLong, longMax, atLeast(1), "Force an fsync after this many records (Sluice always fsyncs before answering acks=all unless write caching is on).", "log.flush.interval.messages"),
	tdef("flush.ms", TypeLong, longMax, atLeast(0), "Force an fsync when unsynced data is this old.", flushSyns...),
	tdef("follower.replication.throttled.replicas", TypeList, "", throttledReplicas, "Replicas throttled on the follower side, as partition:broker pairs or *."),
	tdef("index.interval.bytes", TypeInt, "4096", atLeast(0), "Bytes appended between two offset index entries.", "log.index.interval.bytes"),
	tdef("leader.replication.throttled.replicas", TypeList, "", throttledReplicas, "Replicas throttled on the leader side, as partition:broker pairs or *."),
	tdef("local.retention.bytes", TypeLong, "-2", atLeast(-2), "Local size limit with tiered storage; -2 follows retention.bytes. Accepted; tiered storage is not supported.", "log.local.retention.bytes"),
	tdef("local.retention.ms", TypeLong, "-2", atLeast(-2), "Local time limit with tiered storage; -2 follows retention.ms. Accepted; tiered storage is not supported.", "log.local.retention.ms"),
	tdef("max.compaction.lag.ms", TypeLong, longMax, atLeast(1), "Greatest time a record may stay uncompacted.", "log.cleaner.max.compaction.lag.ms"),
	tdef("max.message.bytes", TypeInt, "1048588", atLeast(0), "Largest record batch the topic accepts, after compression.", "message.max.bytes"),
	tdef("message.timestamp.after.max.ms", TypeLong, "3600000", atLeast(0), "How far ahead of the broker clock a CreateTime timestamp may be.", "log.message.timestamp.after.max.ms"),
	tdef("message.timestamp.before.max.ms", TypeLong, longMax, atLeast(0), "How far behind the broker clock a CreateTime timestamp may be.", "log.message.timestamp.before.max.ms"),
	tdef("message.timestamp.type", TypeString, "CreateTime", oneOf("CreateTime", "LogAppendTime"), "CreateTime keeps the producer's timestamps; LogAppendTime stamps records with the broker's clock.", "log.message.timestamp.type"),
	tdef("min.cleanable.dirty.ratio", TypeDouble, "0.5", ratio, "Least fraction of uncompacted data before the cleaner compacts the log.", "log.cleaner.min.cleanable.ratio"),
	tdef("min.compaction.lag.ms", TypeLong, "0", atLeast(0), "Least time a record stays uncompacted.", "log.cleaner.min.compaction.lag.ms"),
	tdef("min.insync.replicas", TypeInt, "1", atLeast(1), "Least in-sync replicas for an acks=all produce; fewer gives NOT_ENOUGH_REPLICAS.", "min.insync.replicas"),
	tdef("preallocate", TypeBoolean, "false", nil, "Preallocate new segment files to their full size.", "log.preallocate"),
	tdef("remote.log.copy.disable", TypeBoolean, "false", nil, "Stop copying to tiered storage. Accepted; tiered storage is not supported."),
	tdef("remote.log.delete.on.disable", TypeBoolean, "false", nil, "Delete tiered data when tiering is turned off. Accepted; tiered storage is not supported."),
	tdef("remote.storage.enable", TypeBoolean, "false", nil, "Tiered storage for this topic; refused unless remote.log.storage.system.enable is true, which Sluice does not support."),
	tdef("retention.bytes", TypeLong, "-1", nil, "Size a partition may reach before its oldest segments are deleted; -1 means no limit.", "log.retention.bytes"),
	tdef("retention.ms", TypeLong, "604800000", atLeast(-1), "Age after which segments are deleted; -1 means no limit.", retentionSyns...),
	tdef("segment.bytes", TypeInt, "1073741824", atLeast(1048576), "Largest size of one segment file.", "log.segment.bytes"),
	tdef("segment.index.bytes", TypeInt, "10485760", atLeast(4), "Largest size of a segment's offset and time index files.", "log.index.size.max.bytes"),
	tdef("segment.jitter.ms", TypeLong, "0", atLeast(0), "Largest random amount taken off segment.ms, so partitions do not roll together.", jitterSyns...),
	tdef("segment.ms", TypeLong, "604800000", atLeast(1), "Age after which the active segment is rolled even if not full.", rollSyns...),
	tdef("sluice.write.caching", TypeBoolean, "false", nil, "Sluice: answer acks=all once replicated in memory instead of after fsync.", "sluice.write.caching"),
	tdef("unclean.leader.election.enable", TypeBoolean, "false", nil, "Allow an out-of-sync replica to become leader as a last resort, losing data.", "unclean.leader.election.enable"),
}

// ignoredTopicKeys are keys Kafka 4 still accepts from clients but ignores
// (the message format is always v2, so down-conversion never happens).
// Validation lets them through; resolution and Describe skip them, and
// callers should not store them (see IgnoredTopicConfig).
var ignoredTopicKeys = map[string]bool{
	"message.format.version":        true,
	"message.downconversion.enable": true,
}

// IgnoredTopicConfig reports whether a topic key is accepted but ignored,
// as Kafka 4 does; such keys should be dropped before storing overrides.
func IgnoredTopicConfig(name string) bool { return ignoredTopicKeys[name] }
