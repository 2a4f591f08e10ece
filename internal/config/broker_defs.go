package config

// Broker keys, part 1: identity, roles, listeners, quorum, Sluice's own
// keys, and the log defaults that topics inherit. Defaults are Kafka 4's
// unless the doc says "Sluice default" (doc.go explains each choice).

const (
	longMax = "9223372036854775807"
	intMax  = "2147483647"
	// defaultListeners is Sluice's zero-config listener list.
	defaultListeners = "PLAINTEXT://localhost:9092,CONTROLLER://localhost:9093"
	// defaultProtocolMap is Kafka's built-in map plus CONTROLLER, as in
	// Kafka's shipped server.properties.
	defaultProtocolMap = "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL"
)

// Short names for the update modes in the tables below.
const (
	ro = ReadOnly
	cw = ClusterWide
)

// def builds a key with a default.
func def(name string, t Type, dflt string, v func(string) error, mode UpdateMode, doc string) Def {
	return Def{Name: name, Type: t, Default: dflt, HasDefault: true, Validate: v,
		Sensitive: t == TypePassword, Mode: mode, Doc: doc}
}

// opt builds a key without a default (Kafka's null).
func opt(name string, t Type, v func(string) error, mode UpdateMode, doc string) Def {
	return Def{Name: name, Type: t, Validate: v, Sensitive: t == TypePassword, Mode: mode, Doc: doc}
}

// syn sets the broker synonym group of d.
func syn(d Def, names ...string) Def {
	d.Synonyms = names
	return d
}

var (
	retentionSyns = []string{"log.retention.ms", "log.retention.minutes", "log.retention.hours"}
	rollSyns      = []string{"log.roll.ms", "log.roll.hours"}
	jitterSyns    = []string{"log.roll.jitter.ms", "log.roll.jitter.hours"}
	flushSyns     = []string{"log.flush.interval.ms", "log.flush.scheduler.interval.ms"}
)

var brokerCoreDefs = []Def{
	def("node.id", TypeInt, "1", atLeast(0), ro, "Id of this node, unique in the cluster. Sluice default 1 (Kafka requires it)."),
	def("broker.id", TypeInt, "-1", atLeast(-1), ro, "Older name of node.id; if both are set they must be equal."),
	def("process.roles", TypeList, "broker,controller", processRoles, ro, "Roles of this process: broker, controller, or both. Sluice default broker,controller."),
	def("listeners", TypeList, defaultListeners, listenerList, ro, "Addresses to listen on, as NAME://host:port. Empty host binds all interfaces. Sluice default "+defaultListeners+"."),
	opt("advertised.listeners", TypeList, advertisedList, ro, "Addresses published to clients and other brokers; defaults to the non-controller listeners."),
	def("listener.security.protocol.map", TypeString, defaultProtocolMap, protocolMap, ro, "Security protocol of each listener name, as NAME:PROTOCOL pairs."),
	def("controller.listener.names", TypeList, "CONTROLLER", uniqueList, ro, "Listener names used by controllers. Sluice default CONTROLLER."),
	opt("inter.broker.listener.name", TypeString, nil, ro, "Listener that brokers use to reach each other; defaults to the one named after security.inter.broker.protocol."),
	def("security.inter.broker.protocol", TypeString, "PLAINTEXT", oneOf(securityProtocols...), ro, "Protocol between brokers; set this or inter.broker.listener.name, not both."),
	def("controller.quorum.voters", TypeList, "", quorumVoters, ro, "Static controller quorum as id@host:port. Sluice derives node.id@controller-listener for a lone controller when neither this nor the bootstrap list is set."),
	def("controller.quorum.bootstrap.servers", TypeList, "", hostPortList, ro, "Controllers to contact first, as host:port (KIP-853 dynamic quorum)."),
	def("controller.quorum.election.timeout.ms", TypeInt, "1000", atLeast(1), ro, "Time without a leader before a controller starts an election."),
	def("controller.quorum.election.backoff.max.ms", TypeInt, "1000", atLeast(0), ro, "Longest back-off before a new election."),
	def("controller.quorum.fetch.timeout.ms", TypeInt, "2000", atLeast(1), ro, "Time without a successful fetch from the leader before a voter suspects it."),
	def("controller.quorum.request.timeout.ms", TypeInt, "2000", atLeast(1), ro, "Timeout of quorum requests."),
	def("controller.quorum.retry.backoff.ms", TypeInt, "20", atLeast(0), ro, "Back-off before retrying a failed quorum request."),
	def("broker.heartbeat.interval.ms", TypeInt, "2000", atLeast(1), ro, "Interval between broker heartbeats to the controller."),
	def("broker.session.timeout.ms", TypeInt, "9000", atLeast(1), ro, "A broker without a heartbeat for this long is fenced."),
	opt("broker.rack", TypeString, nil, ro, "Rack of this broker, used for rack-aware replica placement."),
	opt("metadata.log.dir", TypeString, nil, ro, "Directory of the metadata log; defaults to the first log directory."),
	def("metadata.log.segment.bytes", TypeInt, "1073741824", atLeast(8388608), ro, "Segment size of the metadata log."),
	def("metadata.log.segment.ms", TypeLong, "604800000", atLeast(1), ro, "Age after which a metadata log segment is rolled."),
	def("metadata.max.retention.bytes", TypeLong, "104857600", nil, ro, "Metadata log size kept before old snapshots and segments are deleted; -1 keeps all."),
	def("metadata.max.retention.ms", TypeLong, "604800000", nil, ro, "Age of metadata snapshots and segments kept; -1 keeps all."),
	def("metadata.max.idle.interval.ms", TypeInt, "500", atLeast(0), ro, "How often the active controller writes a no-op record when idle; 0 disables."),
	def("num.network.threads", TypeInt, "3", atLeast(1), cw, "Accepted for compatibility; Sluice sizes its network work itself."),
	def("num.io.threads", TypeInt, "8", atLeast(1), cw, "Accepted for compatibility; Sluice sizes its request work itself."),
	def("background.threads", TypeInt, "10", atLeast(1), cw, "Accepted for compatibility; Sluice sizes its background work itself."),
	def("num.replica.fetchers", TypeInt, "1", atLeast(1), cw, "Fetcher connections per source broker for replication."),
	def("num.recovery.threads.per.data.dir", TypeInt, "2", atLeast(1), cw, "Parallelism of log recovery at start-up, per log directory."),
	def("sluice.http.listener", TypeString, "localhost:9644", optionalHostPort, ro, "Sluice: host:port reserved for the HTTP server of /metrics, /healthz, /readyz and the console; empty disables it. Bound to localhost by default. Not served yet: the value is checked (and must not clash with a listener port), but nothing listens on it."),
	def("sluice.fsync.scope", TypeString, "file", oneOf("file", "filesystem"), ro, "Sluice: how a sync round makes a partition durable: file fdatasyncs each file written; filesystem runs one syncfs of the log directory's file system shared by all partitions (less CPU and I/O per acks=all produce, but it writes back everything dirty on that file system: use it when the log directory has a file system of its own)."),
	def("sluice.log.writeback.bytes", TypeLong, "0", atLeast(0), ro, "Sluice: when above 0, write appended log data back to disk behind the writers, this many bytes at a time (1048576 is a good value) with at most two steps in the device queue, instead of leaving it dirty for the kernel to write back in bulk, which stalls every other I/O of the disk, acks=all syncs among them, while it runs. Makes nothing durable by itself. Costs the broker the writeback's CPU (about 0.2 us per 1 KiB record of acks=1 bulk writes, measured) that the kernel would otherwise spend later. 0 (default) leaves writeback to the kernel, as Kafka does."),
	def("sluice.log.idle.close.ms", TypeLong, "60000", idleCloseMs, ro, "Sluice: close a log segment's files (its descriptor, index descriptors and memory maps) once nobody used them for this long, and reopen them on the next read or append; -1 keeps them open while the broker runs (Kafka's way, which needs a descriptor limit above three per partition). A segment that handed out data for a fetch keeps its files at least file.delete.delay.ms. At least 1000, or -1."),
	def("sluice.procs.adaptive", TypeBoolean, "true", nil, ro, "Sluice: run the Go scheduler on one thread (GOMAXPROCS=1) while the broker uses under half a core for 2 s, and on every core again once it uses 0.8 of one: at light load this spares the cross-core wake-ups that cost more than the requests. Off when the GOMAXPROCS environment variable is set."),
	def("sluice.write.caching", TypeBoolean, "false", nil, cw, "Sluice: when false, an acks=all produce is answered only after its data is fsynced; true answers once replicated in memory and trades durability on power loss for latency."),
}

var brokerLogDefs = []Def{
	def("log.dir", TypeString, "./data", nonEmpty, ro, "Log directory, used when log.dirs is not set. Sluice default ./data."),
	opt("log.dirs", TypeList, nonEmptyUniqueList, ro, "Comma-separated log directories; overrides log.dir."),
	def("num.partitions", TypeInt, "1", atLeast(1), ro, "Partitions of a topic created without a partition count."),
	def("default.replication.factor", TypeInt, "1", between(1, 32767), ro, "Replication factor of a topic created without one."),
	def("auto.create.topics.enable", TypeBoolean, "true", nil, ro, "Create a topic when a client asks for metadata of an unknown one."),
	def("delete.topic.enable", TypeBoolean, "true", nil, ro, "Allow topics to be deleted."),
	def("log.segment.bytes", TypeInt, "1073741824", atLeast(1048576), cw, "Largest size of one log segment file."),
	syn(opt("log.roll.ms", TypeLong, atLeast(1), cw, "Age after which a new segment is rolled; overrides log.roll.hours."), rollSyns...),
	syn(def("log.roll.hours", TypeInt, "168", atLeast(1), ro, "Age in hours after which a new segment is rolled."), rollSyns...),
	syn(opt("log.roll.jitter.ms", TypeLong, atLeast(0), cw, "Largest random amount taken off the roll time; overrides log.roll.jitter.hours."), jitterSyns...),
	syn(def("log.roll.jitter.hours", TypeInt, "0", atLeast(0), ro, "Largest random amount in hours taken off the roll time."), jitterSyns...),
	syn(opt("log.retention.ms", TypeLong, nil, cw, "Age after which segments are deleted; -1 keeps them forever. Overrides log.retention.minutes and log.retention.hours."), retentionSyns...),
	syn(opt("log.retention.minutes", TypeInt, nil, ro, "Retention in minutes; overrides log.retention.hours."), retentionSyns...),
	syn(def("log.retention.hours", TypeInt, "168", nil, ro, "Retention in hours; used when neither log.retention.ms nor log.retention.minutes is set."), retentionSyns...),
	def("log.retention.bytes", TypeLong, "-1", nil, cw, "Size a partition may reach before its oldest segments are deleted; -1 means no limit."),
	def("log.retention.check.interval.ms", TypeLong, "300000", atLeast(1), ro, "How often retention is checked."),
	def("log.cleanup.policy", TypeList, "delete", listOf(false, "compact", "delete"), cw, "Default cleanup policy: delete, compact, or both."),
	def("log.index.size.max.bytes", TypeInt, "10485760", atLeast(4), cw, "Largest size of an offset or time index file."),
	def("log.index.interval.bytes", TypeInt, "4096", atLeast(0), cw, "Bytes appended between two offset index entries."),
	def("log.flush.interval.messages", TypeLong, longMax, atLeast(1), cw, "Messages appended to a partition before it is fsynced."),
	syn(opt("log.flush.interval.ms", TypeLong, nil, cw, "Age of unsynced data after which a partition is fsynced; defaults to log.flush.scheduler.interval.ms."), flushSyns...),
	def("log.flush.scheduler.interval.ms", TypeLong, longMax, nil, ro, "How often the flusher looks for partitions to fsync."),
	def("log.flush.offset.checkpoint.interval.ms", TypeInt, "60000", atLeast(0), ro, "How often the recovery point checkpoint is written."),
	def("log.flush.start.offset.checkpoint.interval.ms", TypeInt, "60000", atLeast(0), ro, "How often the log start offset checkpoint is written."),
	def("log.segment.delete.delay.ms", TypeLong, "60000", atLeast(0), cw, "Delay before a deleted segment's files are removed from disk."),
	def("log.preallocate", TypeBoolean, "false", nil, cw, "Preallocate segment files to their full size."),
	def("log.message.timestamp.type", TypeString, "CreateTime", oneOf("CreateTime", "LogAppendTime"), cw, "Whether record timestamps are the producer's (CreateTime) or the broker's (LogAppendTime)."),
	def("log.message.timestamp.before.max.ms", TypeLong, longMax, atLeast(0), cw, "How far in the past a CreateTime timestamp may be."),
	def("log.message.timestamp.after.max.ms", TypeLong, "3600000", atLeast(0), cw, "How far in the future a CreateTime timestamp may be."),
	def("log.cleaner.enable", TypeBoolean, "true", nil, ro, "Run the log cleaner for compacted topics."),
	def("log.cleaner.threads", TypeInt, "1", atLeast(0), cw, "Number of log cleaner workers."),
	def("log.cleaner.backoff.ms", TypeLong, "15000", atLeast(0), cw, "Sleep of the cleaner when there is nothing to clean."),
	def("log.cleaner.dedupe.buffer.size", TypeLong, "134217728", nil, cw, "Memory for key deduplication across all cleaner workers."),
	def("log.cleaner.io.buffer.size", TypeInt, "524288", atLeast(0), cw, "I/O buffer memory across all cleaner workers."),
	def("log.cleaner.io.max.bytes.per.second", TypeDouble, "1.7976931348623157E308", nil, cw, "Throttle of cleaner reads and writes."),
	def("log.cleaner.delete.retention.ms", TypeLong, "86400000", atLeast(0), cw, "How long tombstones are kept in compacted topics."),
	def("log.cleaner.min.compaction.lag.ms", TypeLong, "0", atLeast(0), cw, "Least age of a record before it may be compacted."),
	def("log.cleaner.max.compaction.lag.ms", TypeLong, longMax, atLeast(1), cw, "Greatest age of a record before it must be compacted."),
	def("log.cleaner.min.cleanable.ratio", TypeDouble, "0.5", ratio, cw, "Least dirty fraction of a log before it is compacted."),
	def("log.local.retention.ms", TypeLong, "-2", atLeast(-2), cw, "Local retention with tiered storage; -2 means use retention.ms. Accepted, tiered storage is not supported."),
	def("log.local.retention.bytes", TypeLong, "-2", atLeast(-2), cw, "Local retention size with tiered storage; -2 means use retention.bytes. Accepted, tiered storage is not supported."),
	def("remote.log.storage.system.enable", TypeBoolean, "false", nil, ro, "Tiered storage; Sluice does not support it and refuses true."),
	def("message.max.bytes", TypeInt, "1048588", atLeast(0), cw, "Largest record batch a topic accepts, after compression."),
	def("min.insync.replicas", TypeInt, "1", atLeast(1), cw, "Least in-sync replicas for an acks=all produce to succeed."),
	def("compression.type", TypeString, "producer", oneOf(compressionTypes...), cw, "Codec of stored batches; producer keeps the producer's codec."),
	def("compression.gzip.level", TypeInt, "-1", levelOrDefault(1, 9), cw, "Gzip level when compression.type is gzip."),
	def("compression.lz4.level", TypeInt, "9", between(1, 17), cw, "LZ4 level when compression.type is lz4."),
	def("compression.zstd.level", TypeInt, "3", between(-131072, 22), cw, "Zstd level when compression.type is zstd."),
	def("unclean.leader.election.enable", TypeBoolean, "false", nil, cw, "Allow an out-of-sync replica to become leader as a last resort, at the cost of data loss."),
}

var (
	securityProtocols = []string{"PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"}
	compressionTypes  = []string{"uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"}
)
