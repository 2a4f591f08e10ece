package config

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/sluice-io/sluice/internal/model"
)

// Broker is the resolved configuration of one Sluice process: typed fields
// for what the code reads, plus the layers of raw values behind them for
// DescribeConfigs. A Broker is immutable once built and safe for
// concurrent use; dynamic changes build a new one with WithDynamic.
type Broker struct {
	NodeID                  model.NodeID
	Roles                   []string // "broker", "controller"
	Listeners               []Listener
	AdvertisedListeners     []Listener // broker listeners published in metadata
	ControllerListenerNames []string
	InterBrokerListenerName string
	QuorumVoters            []Voter  // static quorum; derived for a lone controller (see doc.go)
	QuorumBootstrapServers  []string // host:port
	Rack                    string
	LogDirs                 []string
	MetadataLogDir          string

	NumPartitions               int32
	DefaultReplicationFactor    int16
	AutoCreateTopics            bool
	DeleteTopicEnable           bool
	MessageMaxBytes             int32
	SocketRequestMaxBytes       int32
	FetchMaxBytes               int32
	LogRetentionCheckIntervalMs int64
	LogFlushSchedulerIntervalMs int64
	LogCleanerEnable            bool
	NumNetworkThreads           int32 // informational
	NumIOThreads                int32 // informational
	ConnectionsMaxIdleMs        int64

	ReplicaLagTimeMaxMs          int64
	ReplicaFetchMaxBytes         int32
	ReplicaFetchMinBytes         int32
	ReplicaFetchWaitMaxMs        int32
	ReplicaFetchResponseMaxBytes int32
	BrokerHeartbeatIntervalMs    int32
	BrokerSessionTimeoutMs       int32

	OffsetsTopicNumPartitions       int32
	OffsetsTopicReplicationFactor   int16
	OffsetsTopicSegmentBytes        int32
	OffsetsRetentionMs              int64 // offsets.retention.minutes in ms
	OffsetsRetentionCheckIntervalMs int64
	OffsetMetadataMaxBytes          int32
	GroupInitialRebalanceDelayMs    int32
	GroupMinSessionTimeoutMs        int32
	GroupMaxSessionTimeoutMs        int32
	GroupMaxSize                    int32
	GroupRebalanceProtocols         []string

	TransactionStateLogNumPartitions     int32
	TransactionStateLogReplicationFactor int16
	TransactionStateLogMinISR            int32
	TransactionStateLogSegmentBytes      int32
	TransactionalIDExpirationMs          int32
	TransactionMaxTimeoutMs              int32
	ProducerIDExpirationMs               int32

	HTTPListener   string // "" when off
	WriteCaching   bool
	FsyncScope     string // sluice.fsync.scope: "file" or "filesystem"
	AdaptiveProcs  bool   // sluice.procs.adaptive
	IdleCloseMs    int64  // sluice.log.idle.close.ms; -1: never
	WritebackBytes int64  // sluice.log.writeback.bytes; 0: off

	static         map[string]string // file + overrides, canonical values
	perBroker      map[string]string // dynamic, this broker
	clusterDefault map[string]string // dynamic, cluster-wide default
	topicDefaults  Topic
}

// Default returns a new zero-config broker: every key at its default.
func Default() *Broker {
	b, err := build(nil, nil, nil)
	if err != nil {
		panic("config: defaults do not validate: " + err.Error())
	}
	return b
}

// sharedDefault is the zero-config broker used when a caller passes nil;
// it is never handed out, so nobody can modify its fields.
var sharedDefault = sync.OnceValue(Default)

// Load reads a Kafka server.properties file (path "" reads none), applies
// overrides (from command-line flags) on top, and validates every value.
// An invalid value is an error wrapping an *Error that names the key and
// the value (the message adds the file and line); an unknown key is a
// Warning, not an error.
func Load(path string, overrides map[string]string) (*Broker, []Warning, error) {
	var props []Property
	if path != "" {
		f, err := os.Open(path)
		if err != nil {
			return nil, nil, fmt.Errorf("open config: %w", err)
		}
		props, err = ParseProperties(f)
		f.Close()
		if err != nil {
			return nil, nil, fmt.Errorf("parse %s: %w", path, err)
		}
	}
	b, warns, err := FromProperties(props, overrides)
	if err != nil && path != "" {
		err = fmt.Errorf("%s: %w", path, err)
	}
	return b, warns, err
}

// FromProperties is Load for properties already parsed.
func FromProperties(props []Property, overrides map[string]string) (*Broker, []Warning, error) {
	raw := make(map[string]string, len(props)+len(overrides))
	line := make(map[string]int, len(props))
	for _, p := range props {
		raw[p.Key], line[p.Key] = p.Value, p.Line
	}
	for k, v := range overrides {
		raw[k], line[k] = v, 0
	}
	static := make(map[string]string, len(raw))
	var warns []Warning
	for _, k := range slices.Sorted(maps.Keys(raw)) {
		v := raw[k]
		d, ok := BrokerDef(k)
		if !ok {
			d, ok = listenerOverrideDef(k)
		}
		if !ok {
			warns = append(warns, Warning{Key: k, Line: line[k], Msg: unknownBrokerKeyHint(k)})
			continue
		}
		if err := d.Check(v); err != nil {
			if line[k] > 0 {
				err = fmt.Errorf("line %d: %w", line[k], err)
			}
			return nil, warns, err
		}
		static[k] = d.Canonical(v)
		if why, ignored := NotApplied(k); ignored && changesSomething(d, static[k]) {
			warns = append(warns, Warning{Key: k, Line: line[k], Msg: IgnoredMessage(why)})
		}
	}
	b, err := build(static, nil, nil)
	if err != nil {
		return nil, warns, err
	}
	return b, append(warns, b.riskWarnings()...), nil
}

// build resolves the layers into typed fields and runs the cross-key
// checks.
func build(static, perBroker, clusterDefault map[string]string) (*Broker, error) {
	b := &Broker{static: static, perBroker: perBroker, clusterDefault: clusterDefault}
	b.fillCore()
	b.fillCoordinators()
	if err := b.resolveNetwork(); err != nil {
		return nil, err
	}
	if err := b.checkConnections(); err != nil {
		return nil, err
	}
	t, err := resolveTopic(b, nil)
	if err != nil {
		return nil, err
	}
	b.topicDefaults = t
	return b, nil
}

func (b *Broker) fillCore() {
	b.NodeID = model.NodeID(b.Int("node.id"))
	if !b.isSet("node.id") && b.Int("broker.id") >= 0 {
		b.NodeID = model.NodeID(b.Int("broker.id"))
	}
	b.Roles = b.List("process.roles")
	b.Rack = b.String("broker.rack")
	b.LogDirs = b.List("log.dirs")
	if !b.isSet("log.dirs") {
		b.LogDirs = []string{b.String("log.dir")}
	}
	b.MetadataLogDir = b.String("metadata.log.dir")
	if b.MetadataLogDir == "" {
		b.MetadataLogDir = b.LogDirs[0]
	}
	b.NumPartitions = int32(b.Int("num.partitions"))
	b.DefaultReplicationFactor = int16(b.Int("default.replication.factor"))
	b.AutoCreateTopics = b.Bool("auto.create.topics.enable")
	b.DeleteTopicEnable = b.Bool("delete.topic.enable")
	b.MessageMaxBytes = int32(b.Int("message.max.bytes"))
	b.SocketRequestMaxBytes = int32(b.Int("socket.request.max.bytes"))
	b.FetchMaxBytes = int32(b.Int("fetch.max.bytes"))
	b.LogRetentionCheckIntervalMs = b.Int("log.retention.check.interval.ms")
	b.LogFlushSchedulerIntervalMs = b.Int("log.flush.scheduler.interval.ms")
	b.LogCleanerEnable = b.Bool("log.cleaner.enable")
	b.NumNetworkThreads = int32(b.Int("num.network.threads"))
	b.NumIOThreads = int32(b.Int("num.io.threads"))
	b.ConnectionsMaxIdleMs = b.Int("connections.max.idle.ms")
	b.ReplicaLagTimeMaxMs = b.Int("replica.lag.time.max.ms")
	b.ReplicaFetchMaxBytes = int32(b.Int("replica.fetch.max.bytes"))
	b.ReplicaFetchMinBytes = int32(b.Int("replica.fetch.min.bytes"))
	b.ReplicaFetchWaitMaxMs = int32(b.Int("replica.fetch.wait.max.ms"))
	b.ReplicaFetchResponseMaxBytes = int32(b.Int("replica.fetch.response.max.bytes"))
	b.BrokerHeartbeatIntervalMs = int32(b.Int("broker.heartbeat.interval.ms"))
	b.BrokerSessionTimeoutMs = int32(b.Int("broker.session.timeout.ms"))
	b.HTTPListener = b.String("sluice.http.listener")
	b.WriteCaching = b.Bool("sluice.write.caching")
	b.FsyncScope = b.String("sluice.fsync.scope")
	b.AdaptiveProcs = b.Bool("sluice.procs.adaptive")
	b.IdleCloseMs = b.Int("sluice.log.idle.close.ms")
	b.WritebackBytes = b.Int("sluice.log.writeback.bytes")
}

func (b *Broker) fillCoordinators() {
	b.OffsetsTopicNumPartitions = int32(b.Int("offsets.topic.num.partitions"))
	b.OffsetsTopicReplicationFactor = int16(b.Int("offsets.topic.replication.factor"))
	b.OffsetsTopicSegmentBytes = int32(b.Int("offsets.topic.segment.bytes"))
	b.OffsetsRetentionMs = b.Int("offsets.retention.minutes") * 60_000
	b.OffsetsRetentionCheckIntervalMs = b.Int("offsets.retention.check.interval.ms")
	b.OffsetMetadataMaxBytes = int32(b.Int("offset.metadata.max.bytes"))
	b.GroupInitialRebalanceDelayMs = int32(b.Int("group.initial.rebalance.delay.ms"))
	b.GroupMinSessionTimeoutMs = int32(b.Int("group.min.session.timeout.ms"))
	b.GroupMaxSessionTimeoutMs = int32(b.Int("group.max.session.timeout.ms"))
	b.GroupMaxSize = int32(b.Int("group.max.size"))
	b.GroupRebalanceProtocols = b.List("group.coordinator.rebalance.protocols")
	b.TransactionStateLogNumPartitions = int32(b.Int("transaction.state.log.num.partitions"))
	b.TransactionStateLogReplicationFactor = int16(b.Int("transaction.state.log.replication.factor"))
	b.TransactionStateLogMinISR = int32(b.Int("transaction.state.log.min.isr"))
	b.TransactionStateLogSegmentBytes = int32(b.Int("transaction.state.log.segment.bytes"))
	b.TransactionalIDExpirationMs = int32(b.Int("transactional.id.expiration.ms"))
	b.TransactionMaxTimeoutMs = int32(b.Int("transaction.max.timeout.ms"))
	b.ProducerIDExpirationMs = int32(b.Int("producer.id.expiration.ms"))
}

// HasRole reports whether process.roles includes role.
func (b *Broker) HasRole(role string) bool { return slices.Contains(b.Roles, role) }

// TopicDefaults returns the topic config a topic without overrides gets.
func (b *Broker) TopicDefaults() Topic { return b.topicDefaults.clone() }

// Lookup returns the effective value of a broker key and where it comes
// from: a dynamic per-broker value, the dynamic cluster default, the
// properties file (or a flag), or the key's default. ok is false when the
// key has no value anywhere (a Kafka null).
func (b *Broker) Lookup(name string) (value string, src Source, ok bool) {
	if v, ok := b.perBroker[name]; ok {
		return v, SourceDynamicBroker, true
	}
	if v, ok := b.clusterDefault[name]; ok {
		return v, SourceDynamicDefaultBroker, true
	}
	if v, ok := b.static[name]; ok {
		return v, SourceStaticBroker, true
	}
	if d, ok := BrokerDef(name); ok && d.HasDefault {
		return d.Default, SourceDefault, true
	}
	return "", SourceUnknown, false
}

// isSet reports whether name has a value other than its default.
func (b *Broker) isSet(name string) bool {
	_, src, ok := b.Lookup(name)
	return ok && src != SourceDefault
}

// String returns the effective value of a key, "" when it has none.
func (b *Broker) String(name string) string {
	v, _, _ := b.Lookup(name)
	return v
}

// Int returns the effective value of an INT, SHORT or LONG key, 0 when it
// has none.
func (b *Broker) Int(name string) int64 { return parseInt(b.String(name)) }

// Bool returns the effective value of a BOOLEAN key.
func (b *Broker) Bool(name string) bool { return parseBool(b.String(name)) }

// List returns the effective value of a LIST key.
func (b *Broker) List(name string) []string { return splitList(b.String(name)) }

// Static returns a copy of the values read from the file and flags.
func (b *Broker) Static() map[string]string { return maps.Clone(b.static) }

// ListenerValue returns a key's value for one listener: Kafka's
// listener.name.<listener>.<key> override when present, else the key
// itself (for "plain.sasl.jaas.config", the base sasl.jaas.config).
func (b *Broker) ListenerValue(listener, key string) (string, bool) {
	prefixed := "listener.name." + strings.ToLower(listener) + "." + key
	if v, _, ok := b.Lookup(prefixed); ok {
		return v, true
	}
	if v, _, ok := b.Lookup(key); ok {
		return v, true
	}
	if _, base, ok := strings.Cut(key, "."); ok && listenerMechanismKeys[base] {
		v, _, ok := b.Lookup(base)
		return v, ok
	}
	return "", false
}
