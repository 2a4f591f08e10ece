// Package config defines Sluice's broker and topic configuration with
// Apache Kafka's key names, types, defaults and validation, so that a
// Kafka server.properties works unchanged and DescribeConfigs answers as
// a Kafka broker would.
//
// # Tables
//
// Every key is a Def in one of two tables (BrokerDefs, TopicDefs): name,
// Kafka's DescribeConfigs type, default as Kafka prints it, a validator
// whose messages follow Kafka's ("Invalid value X for configuration Y:
// Value must be at least 1"), sensitivity, the dynamic update mode of
// broker keys, and synonyms. A topic key's synonyms are the broker keys
// that default it, highest precedence first: retention.ms <-
// log.retention.ms, log.retention.minutes, log.retention.hours (hours and
// minutes are converted to milliseconds; any negative retention means -1).
// The docs are Sluice's own short wording.
//
// # Layers and precedence
//
// A broker value comes from, highest first: a dynamic per-broker value, a
// dynamic cluster-wide default (both from the metadata log, KIP-226), the
// properties file or a command-line flag (STATIC_BROKER_CONFIG), and the
// key's default (DEFAULT_CONFIG). A topic value is the topic's override
// (DYNAMIC_TOPIC_CONFIG), else the first broker synonym with a value in
// any layer, else the topic default. Broker is immutable: Load builds one
// from the file, WithDynamic builds a new one when dynamic configs change.
//
// # Zero-config defaults
//
// Kafka's defaults, except where Kafka has none or where it cannot run
// alone; those follow Kafka's shipped config/server.properties:
//
//	node.id=1
//	process.roles=broker,controller
//	listeners=PLAINTEXT://localhost:9092,CONTROLLER://localhost:9093
//	controller.listener.names=CONTROLLER
//	listener.security.protocol.map adds CONTROLLER:PLAINTEXT
//	log.dir=./data                (log.dirs, when set, wins)
//	offsets.topic.replication.factor=1, transaction.state.log.replication.factor=1,
//	transaction.state.log.min.isr=1, share.coordinator.state.topic.* = 1
//	controller.quorum.voters: for a controller, node.id@<first controller listener>
//	when neither it nor controller.quorum.bootstrap.servers is set, or when the
//	bootstrap list is only that listener (as in Kafka's shipped file)
//
// Listeners bind to localhost so a fresh broker is not reachable from the
// network. The internal-topic replication factors of 1 let one node serve
// groups and transactions; Load warns when a multi-node quorum leaves them
// at 1. Sluice's own keys: sluice.http.listener (default localhost:9644,
// "" turns the metrics/console server off; reserved: that server is not
// built yet, so nothing listens there), sluice.write.caching
// (default false: an acks=all produce waits for fsync; also a topic key),
// sluice.fsync.scope (file or filesystem), sluice.procs.adaptive
// (default true: one Go scheduler thread while the broker is lightly
// loaded, internal/procs),
// sluice.queued.max.request.bytes.per.connection (default 32 MiB: what one
// connection may read ahead of its replies, internal/kafka/conn) and
// sluice.log.idle.close.ms (default 60000: a segment's files close after a
// minute unused, storage.FileJanitor) and sluice.log.writeback.bytes
// (default 0, the kernel's writeback; above 0 appended data is written
// back behind the writers in steps of this size, storage.Writeback).
//
// # Differences from Kafka
//
//   - Describing a topic key lists every broker synonym with a value
//     (log.retention.hours=1 shows as retention.ms=3600000 from
//     STATIC_BROKER_CONFIG). Kafka drops the synonyms of retention.ms and
//     segment.ms when only the hours key is set, which hides the source.
//   - listeners and the SSL/SASL keys are read-only: Sluice does not
//     rebind or reload them at run time yet.
//   - AlterConfigs on a broker refuses unknown keys.
//   - message.format.version and message.downconversion.enable are
//     accepted on topics and ignored (Kafka 4 ignores them too).
//   - Properties files are read as UTF-8 (Java reads ISO-8859-1; ASCII
//     files read the same).
//   - num.network.threads, num.io.threads and background.threads are
//     accepted and reported but do not size anything.
//   - queued.max.requests counts the requests read while an earlier one
//     on their connection is unanswered: Sluice pipelines requests where
//     Kafka reads one per connection at a time.
//     sluice.queued.max.request.bytes.per.connection (default 32 MiB)
//     bounds what one connection holds.
//   - max.connections.per.ip.overrides refuses negative counts and empty
//     hosts (Kafka takes them); a host name that does not resolve is
//     skipped with a warning where Kafka fails.
//
// Everything exported here is immutable or a plain value and safe for
// concurrent use.
package config
