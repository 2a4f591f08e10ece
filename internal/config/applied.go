package config

// Keys Sluice accepts but does not act on. Every key of Kafka's broker and
// topic configs is accepted, so that a server.properties or a client's
// topic settings work unchanged; a key that changes nothing in Sluice is
// listed here with the reason, and startup warns when one is set (a
// dynamic change of one is logged when it arrives). internal/lint's
// TestEveryConfigKeyIsAppliedOrDeclaredIgnored fails when a key is neither
// applied nor listed, or listed but applied.

// Reasons shared by several keys.
const (
	whySecurity    = "TLS, SASL and ACLs are not implemented yet (SSL and SASL listeners and authorizer.class.name stop startup)"
	whyReplication = "replication fetches on the client listener and has no automatic leader rebalancing, throttles or rack-aware follower reads yet"
	whyQuorum      = "the metadata quorum is etcd raft with a 100 ms tick: only controller.quorum.election.timeout.ms tunes it (heartbeats every tick, an election after one to two timeouts, requests retried every 100 ms)"
	whyMetadataLog = "the metadata log is compacted into a snapshot every 10,000 entries (internal/raft)"
	whyThreads     = "Sluice runs this work on goroutines scheduled by Go; there is no thread pool to size"
	whyTiered      = "tiered storage is not implemented (remote.storage.enable=true is refused unless remote.log.storage.system.enable)"
	whyShare       = "share groups (KIP-932) are not served yet"
	whyGroupBounds = "they bound group-level overrides (GROUP resource configs), which are not served yet"
	whyLoadBuffer  = "coordinator loads read their partition 1 MiB at a time"
	whyCheckpoint  = "each partition rewrites its log-checkpoint when its start offset or recovery point moves"
	whySockets     = "the listen backlog is the operating system's (net.core.somaxconn)"
	whyCompression = "recompression for a topic's compression.type uses each codec's default level"
)

// notApplied maps each accepted-but-ignored key to why.
var notApplied = map[string]string{
	"allow.everyone.if.no.acl.found":            whySecurity,
	"connection.failed.authentication.delay.ms": whySecurity,
	"connections.max.reauth.ms":                 whySecurity,
	"sasl.enabled.mechanisms":                   whySecurity,
	"sasl.jaas.config":                          whySecurity,
	"sasl.mechanism.controller.protocol":        whySecurity,
	"sasl.mechanism.inter.broker.protocol":      whySecurity,
	"security.inter.broker.protocol":            whySecurity,
	"super.users":                               whySecurity,
	"ssl.cipher.suites":                         whySecurity,
	"ssl.client.auth":                           whySecurity,
	"ssl.enabled.protocols":                     whySecurity,
	"ssl.endpoint.identification.algorithm":     whySecurity,
	"ssl.key.password":                          whySecurity,
	"ssl.keystore.certificate.chain":            whySecurity,
	"ssl.keystore.key":                          whySecurity,
	"ssl.keystore.location":                     whySecurity,
	"ssl.keystore.password":                     whySecurity,
	"ssl.keystore.type":                         whySecurity,
	"ssl.principal.mapping.rules":               whySecurity,
	"ssl.protocol":                              whySecurity,
	"ssl.truststore.certificates":               whySecurity,
	"ssl.truststore.location":                   whySecurity,
	"ssl.truststore.password":                   whySecurity,
	"ssl.truststore.type":                       whySecurity,

	"auto.leader.rebalance.enable":            whyReplication,
	"follower.replication.throttled.replicas": whyReplication,
	"leader.replication.throttled.replicas":   whyReplication,
	"inter.broker.listener.name":              whyReplication,
	"leader.imbalance.check.interval.seconds": whyReplication,
	"leader.imbalance.per.broker.percentage":  whyReplication,
	"replica.selector.class":                  whyReplication,
	"replica.socket.receive.buffer.bytes":     whyReplication,
	"replica.socket.timeout.ms":               whyReplication,

	"controller.quorum.election.backoff.max.ms": whyQuorum,
	"controller.quorum.fetch.timeout.ms":        whyQuorum,
	"controller.quorum.request.timeout.ms":      whyQuorum,
	"controller.quorum.retry.backoff.ms":        whyQuorum,

	"metadata.log.segment.bytes":    whyMetadataLog,
	"metadata.log.segment.ms":       whyMetadataLog,
	"metadata.max.idle.interval.ms": whyMetadataLog,
	"metadata.max.retention.bytes":  whyMetadataLog,
	"metadata.max.retention.ms":     whyMetadataLog,

	"background.threads":                  whyThreads,
	"num.io.threads":                      whyThreads,
	"num.network.threads":                 whyThreads,
	"num.recovery.threads.per.data.dir":   whyThreads,
	"log.cleaner.threads":                 whyThreads,
	"log.cleaner.dedupe.buffer.size":      "the cleaner sizes its offset map from the segments it cleans",
	"log.cleaner.io.buffer.size":          "the cleaner reads and writes through buffers of its own size",
	"log.cleaner.io.max.bytes.per.second": "the cleaner's I/O is not throttled",

	"local.retention.bytes":            whyTiered,
	"local.retention.ms":               whyTiered,
	"log.local.retention.bytes":        whyTiered,
	"log.local.retention.ms":           whyTiered,
	"remote.log.copy.disable":          whyTiered,
	"remote.log.delete.on.disable":     whyTiered,
	"remote.log.storage.system.enable": whyTiered,
	"remote.storage.enable":            whyTiered,

	"group.share.delivery.count.limit":                 whyShare,
	"group.share.heartbeat.interval.ms":                whyShare,
	"group.share.max.size":                             whyShare,
	"group.share.partition.max.record.locks":           whyShare,
	"group.share.record.lock.duration.ms":              whyShare,
	"group.share.session.timeout.ms":                   whyShare,
	"share.coordinator.state.topic.min.isr":            whyShare,
	"share.coordinator.state.topic.num.partitions":     whyShare,
	"share.coordinator.state.topic.replication.factor": whyShare,
	"share.coordinator.state.topic.segment.bytes":      whyShare,

	"group.consumer.max.heartbeat.interval.ms": whyGroupBounds,
	"group.consumer.max.session.timeout.ms":    whyGroupBounds,
	"group.consumer.min.heartbeat.interval.ms": whyGroupBounds,
	"group.consumer.min.session.timeout.ms":    whyGroupBounds,
	"offsets.commit.timeout.ms":                "an offset commit waits for its local fsync only, which Sluice does not time out",
	"offsets.load.buffer.size":                 whyLoadBuffer,
	"transaction.state.log.load.buffer.size":   whyLoadBuffer,

	"socket.listen.backlog.size": whySockets,

	"log.flush.offset.checkpoint.interval.ms":       whyCheckpoint,
	"log.flush.start.offset.checkpoint.interval.ms": whyCheckpoint,
	"compression.gzip.level":                        whyCompression,
	"compression.lz4.level":                         whyCompression,
	"compression.zstd.level":                        whyCompression,
	"sluice.http.listener":                          "the HTTP listener (metrics, health, console) is not served yet",
}

// appliedWithin maps keys that internal/config consumes to build another
// setting to the field or method that carries it out of the package (the
// lint test checks that one is used).
var appliedWithin = map[string]string{
	"advertised.listeners":                "AdvertisedListeners",
	"listener.security.protocol.map":      "SecurityProtocol",
	"controller.quorum.bootstrap.servers": "QuorumVoters",
	"message.timestamp.type":              "LogAppendTime",
	"log.message.timestamp.type":          "LogAppendTime",
}

// changesSomething reports whether setting d to value would change
// anything in Kafka: a key set to its default does not, nor an empty
// sluice.http.listener (nothing is served either way).
func changesSomething(d *Def, value string) bool {
	if d.HasDefault && value == d.Canonical(d.Default) {
		return false
	}
	return d.Name != "sluice.http.listener" || value != ""
}

// IgnoredMessage words the warning for a set key that Sluice ignores.
func IgnoredMessage(why string) string {
	return "accepted for compatibility with Kafka and ignored: " + why
}

// NotApplied reports whether Sluice ignores key, and why.
func NotApplied(key string) (why string, ok bool) {
	why, ok = notApplied[key]
	return why, ok
}

// AppliedWithin returns the field or method through which a key that
// internal/config consumes to build another setting leaves the package.
func AppliedWithin(key string) (carrier string, ok bool) {
	carrier, ok = appliedWithin[key]
	return carrier, ok
}
