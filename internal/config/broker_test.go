package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sluice-io/sluice/internal/model"
)

func writeProps(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "server.properties")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func mustLoad(t *testing.T, overrides map[string]string) *Broker {
	t.Helper()
	b, _, err := Load("", overrides)
	if err != nil {
		t.Fatalf("Load(%v): %v", overrides, err)
	}
	return b
}

func TestLoadZeroConfig(t *testing.T) {
	b, warns, err := Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(warns) != 0 {
		t.Errorf("warnings: %v", warns)
	}
	want := []Listener{
		{Name: "PLAINTEXT", Host: "localhost", Port: 9092, SecurityProtocol: "PLAINTEXT"},
		{Name: "CONTROLLER", Host: "localhost", Port: 9093, SecurityProtocol: "PLAINTEXT"},
	}
	if !reflect.DeepEqual(b.Listeners, want) {
		t.Errorf("Listeners = %v", b.Listeners)
	}
	if !reflect.DeepEqual(b.AdvertisedListeners, want[:1]) {
		t.Errorf("AdvertisedListeners = %v", b.AdvertisedListeners)
	}
	checks := []struct {
		name     string
		got, exp any
	}{
		{"NodeID", b.NodeID, model.NodeID(1)},
		{"Roles", b.Roles, []string{"broker", "controller"}},
		{"LogDirs", b.LogDirs, []string{"./data"}},
		{"MetadataLogDir", b.MetadataLogDir, "./data"},
		{"Voters", b.QuorumVoters, []Voter{{ID: 1, Host: "localhost", Port: 9093}}},
		{"InterBroker", b.InterBrokerListenerName, "PLAINTEXT"},
		{"NumPartitions", b.NumPartitions, int32(1)},
		{"DefaultReplicationFactor", b.DefaultReplicationFactor, int16(1)},
		{"AutoCreateTopics", b.AutoCreateTopics, true},
		{"MessageMaxBytes", b.MessageMaxBytes, int32(1048588)},
		{"SocketRequestMaxBytes", b.SocketRequestMaxBytes, int32(104857600)},
		{"LogRetentionCheckIntervalMs", b.LogRetentionCheckIntervalMs, int64(300000)},
		{"OffsetsRetentionMs", b.OffsetsRetentionMs, int64(7 * 24 * 3600 * 1000)},
		{"OffsetsTopicNumPartitions", b.OffsetsTopicNumPartitions, int32(50)},
		{"OffsetsTopicReplicationFactor", b.OffsetsTopicReplicationFactor, int16(1)},
		{"TransactionMaxTimeoutMs", b.TransactionMaxTimeoutMs, int32(900000)},
		{"HTTPListener", b.HTTPListener, "localhost:9644"},
		{"WriteCaching", b.WriteCaching, false},
		{"RetentionMs", b.TopicDefaults().RetentionMs, int64(604800000)},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.exp) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.exp)
		}
	}
}

func TestLoadFileAndOverrides(t *testing.T) {
	path := writeProps(t, `# Kafka-style config
node.id = 3
process.roles=broker,controller
listeners=PLAINTEXT://:19092,CONTROLLER://127.0.0.1:19093
advertised.listeners=PLAINTEXT://kafka-3.example:19092
controller.quorum.voters=3@127.0.0.1:19093
log.dirs=/var/a,\
         /var/b
num.partitions: 6
sluice.http.listener=
zookeeper.connect=localhost:2181
`)
	b, warns, err := Load(path, map[string]string{"num.partitions": "8", "bogus.key": "1"})
	if err != nil {
		t.Fatal(err)
	}
	if b.NodeID != 3 || b.NumPartitions != 8 || b.HTTPListener != "" {
		t.Errorf("NodeID=%d NumPartitions=%d HTTPListener=%q", b.NodeID, b.NumPartitions, b.HTTPListener)
	}
	if !reflect.DeepEqual(b.LogDirs, []string{"/var/a", "/var/b"}) {
		t.Errorf("LogDirs = %v", b.LogDirs)
	}
	if got := b.AdvertisedListeners; len(got) != 1 || got[0].Addr() != "kafka-3.example:19092" {
		t.Errorf("AdvertisedListeners = %v", got)
	}
	if v, src, _ := b.Lookup("num.partitions"); v != "8" || src != SourceStaticBroker {
		t.Errorf("num.partitions = %s from %v", v, src)
	}
	var keys []string
	for _, w := range warns {
		keys = append(keys, w.Key)
	}
	if !reflect.DeepEqual(keys, []string{"bogus.key", "zookeeper.connect"}) {
		t.Errorf("warnings = %v", warns)
	}
	if warns[1].Line != 11 || !strings.Contains(warns[1].String(), "line 11") {
		t.Errorf("zookeeper warning = %v", warns[1])
	}
}

func TestLoadMissingFile(t *testing.T) {
	if _, _, err := Load(filepath.Join(t.TempDir(), "none.properties"), nil); err == nil {
		t.Fatal("want error for a missing file")
	}
}

// Kafka's precedence: log.retention.ms > log.retention.minutes >
// log.retention.hours, and any negative value means -1.
func TestRetentionPrecedence(t *testing.T) {
	tests := []struct {
		name string
		set  map[string]string
		want int64
	}{
		{"default 168h", nil, 168 * 3600000},
		{"hours", map[string]string{"log.retention.hours": "1"}, 3600000},
		{"minutes beat hours", map[string]string{"log.retention.hours": "1", "log.retention.minutes": "5"}, 300000},
		{"ms beats all", map[string]string{"log.retention.hours": "1", "log.retention.minutes": "5", "log.retention.ms": "42"}, 42},
		{"ms beats hours", map[string]string{"log.retention.hours": "2", "log.retention.ms": "7"}, 7},
		{"negative ms unlimited", map[string]string{"log.retention.ms": "-5"}, -1},
		{"negative hours unlimited", map[string]string{"log.retention.hours": "-1"}, -1},
		{"ms -1 beats hours", map[string]string{"log.retention.hours": "1", "log.retention.ms": "-1"}, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mustLoad(t, tt.set).TopicDefaults().RetentionMs; got != tt.want {
				t.Errorf("RetentionMs = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestRollAndFlushPrecedence(t *testing.T) {
	b := mustLoad(t, map[string]string{"log.roll.hours": "2", "log.roll.jitter.hours": "1", "log.flush.scheduler.interval.ms": "500"})
	td := b.TopicDefaults()
	if td.SegmentMs != 2*3600000 || td.SegmentJitterMs != 3600000 || td.FlushMs != 500 {
		t.Errorf("SegmentMs=%d SegmentJitterMs=%d FlushMs=%d", td.SegmentMs, td.SegmentJitterMs, td.FlushMs)
	}
	b = mustLoad(t, map[string]string{"log.roll.hours": "2", "log.roll.ms": "1000", "log.flush.interval.ms": "7", "log.flush.scheduler.interval.ms": "500"})
	td = b.TopicDefaults()
	if td.SegmentMs != 1000 || td.FlushMs != 7 {
		t.Errorf("SegmentMs=%d FlushMs=%d", td.SegmentMs, td.FlushMs)
	}
}

func TestLoadInvalidValueNamesKey(t *testing.T) {
	tests := []struct {
		key, value string
	}{
		{"num.partitions", "zero"},
		{"log.segment.bytes", "1024"},
		{"message.max.bytes", "-1"},
		{"log.message.timestamp.type", "createtime"},
		{"listeners", "PLAINTEXT//localhost:9092"},
		{"listener.name.plaintext.ssl.client.auth", "always"},
		{"log.dir", ""},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			path := writeProps(t, tt.key+"="+tt.value+"\n")
			_, _, err := Load(path, nil)
			var ce *Error
			if !errors.As(err, &ce) || ce.Key != tt.key {
				t.Fatalf("err = %v, want an *Error for %s", err, tt.key)
			}
			if !strings.HasPrefix(err.Error(), path+": line 1: Invalid value "+tt.value) || !strings.Contains(err.Error(), tt.key) {
				t.Errorf("message %q does not name key and value", err)
			}
		})
	}
}

func TestLoadCrossKeyChecks(t *testing.T) {
	tests := []struct {
		name string
		set  map[string]string
		key  string // key the error names
		msg  string
	}{
		{"port collision", map[string]string{"listeners": "PLAINTEXT://:9092,CONTROLLER://:9092"}, "listeners", "share port 9092"},
		{"ipv4 and ipv6 may share", map[string]string{"listeners": "PLAINTEXT://127.0.0.1:9092,SSL://[::1]:9092,CONTROLLER://:9093"}, "", ""},
		{"advertised name unknown", map[string]string{"advertised.listeners": "EXTERNAL://h:1"}, "advertised.listeners", "not one of the listener names"},
		{"no protocol for name", map[string]string{"listeners": "CLIENT://:9092,CONTROLLER://:9093", "inter.broker.listener.name": "CLIENT"}, "listeners", "No security protocol defined for listener CLIENT"},
		{"custom name mapped", map[string]string{"listeners": "CLIENT://:9092,CONTROLLER://:9093", "inter.broker.listener.name": "CLIENT", "listener.security.protocol.map": "CLIENT:SSL,CONTROLLER:PLAINTEXT"}, "", ""},
		{"controller listener missing", map[string]string{"listeners": "PLAINTEXT://:9092"}, "controller.listener.names", "must appear in listeners"},
		{"broker only with controller listener", map[string]string{"process.roles": "broker", "controller.quorum.voters": "2@h:9093"}, "controller.listener.names", "must not name a listener"},
		{"broker only needs quorum", map[string]string{"process.roles": "broker", "listeners": "PLAINTEXT://:9092"}, "controller.quorum.voters", "must be set"},
		{"broker only ok", map[string]string{"process.roles": "broker", "listeners": "PLAINTEXT://:9092", "controller.quorum.bootstrap.servers": "h:9093"}, "", ""},
		{"controller only", map[string]string{"process.roles": "controller", "listeners": "CONTROLLER://:9093"}, "", ""},
		{"node not a voter", map[string]string{"controller.quorum.voters": "2@h:9093"}, "controller.quorum.voters", "node.id 1 must be one of the voters"},
		{"inter broker both set", map[string]string{"inter.broker.listener.name": "PLAINTEXT", "security.inter.broker.protocol": "PLAINTEXT"}, "inter.broker.listener.name", "Only one of"},
		{"inter broker missing", map[string]string{"listeners": "SSL://:9092,CONTROLLER://:9093"}, "inter.broker.listener.name", "must be a listener name defined in advertised.listeners"},
		{"inter broker is controller", map[string]string{"inter.broker.listener.name": "CONTROLLER"}, "inter.broker.listener.name", "must not be a controller listener"},
		{"meta address advertised", map[string]string{"listeners": "PLAINTEXT://0.0.0.0:9092,CONTROLLER://:9093"}, "advertised.listeners", "nonroutable"},
		{"broker.id mismatch", map[string]string{"broker.id": "2", "node.id": "1"}, "broker.id", "must be the same"},
		{"http port taken", map[string]string{"sluice.http.listener": "localhost:9092"}, "sluice.http.listener", "already used by listener PLAINTEXT"},
		{"compaction lag conflict", map[string]string{"log.cleaner.min.compaction.lag.ms": "10", "log.cleaner.max.compaction.lag.ms": "5"}, "min.compaction.lag.ms", "conflict topic config setting"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Load("", tt.set)
			if tt.key == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			var ce *Error
			if !errors.As(err, &ce) || ce.Key != tt.key || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("err = %v, want one naming %s containing %q", err, tt.key, tt.msg)
			}
		})
	}
}

func TestLoadDerivedValues(t *testing.T) {
	b := mustLoad(t, map[string]string{"broker.id": "7"})
	if b.NodeID != 7 || b.QuorumVoters[0].ID != 7 {
		t.Errorf("broker.id alone: NodeID=%d voters=%v", b.NodeID, b.QuorumVoters)
	}
	b = mustLoad(t, map[string]string{"listeners": "PLAINTEXT://:9092,CONTROLLER://:9093"})
	if b.AdvertisedListeners[0].Host != hostname() || b.QuorumVoters[0].Host != "localhost" {
		t.Errorf("empty host: advertised=%v voters=%v", b.AdvertisedListeners, b.QuorumVoters)
	}
	if b := mustLoad(t, nil); b.IdleCloseMs != 60_000 {
		t.Errorf("sluice.log.idle.close.ms default = %d, want 60000 (file.delete.delay.ms's minute)", b.IdleCloseMs)
	}
	if b := mustLoad(t, map[string]string{"sluice.log.idle.close.ms": "-1"}); b.IdleCloseMs != -1 {
		t.Errorf("IdleCloseMs = %d, want -1", b.IdleCloseMs)
	}
	b = mustLoad(t, map[string]string{"log.dir": "/x", "metadata.log.dir": "/meta"})
	if !reflect.DeepEqual(b.LogDirs, []string{"/x"}) || b.MetadataLogDir != "/meta" {
		t.Errorf("LogDirs=%v MetadataLogDir=%s", b.LogDirs, b.MetadataLogDir)
	}
	b = mustLoad(t, map[string]string{"listener.name.sasl_plaintext.plain.sasl.jaas.config": "secret", "sasl.jaas.config": "base"})
	if v, _ := b.ListenerValue("SASL_PLAINTEXT", "plain.sasl.jaas.config"); v != "secret" {
		t.Errorf("listener override = %q", v)
	}
	if v, _ := b.ListenerValue("SASL_SSL", "plain.sasl.jaas.config"); v != "base" {
		t.Errorf("listener fallback = %q", v)
	}
}

func TestLoadRiskWarnings(t *testing.T) {
	_, warns, err := Load("", map[string]string{"controller.quorum.voters": "1@localhost:9093,2@h2:9093,3@h3:9093"})
	if err != nil {
		t.Fatal(err)
	}
	if len(warns) != 2 || warns[0].Key != "offsets.topic.replication.factor" {
		t.Errorf("warnings = %v", warns)
	}
	_, warns, _ = Load("", map[string]string{"controller.quorum.voters": "1@localhost:9093,2@h2:9093",
		"offsets.topic.replication.factor": "3", "transaction.state.log.replication.factor": "3"})
	if len(warns) != 0 {
		t.Errorf("warnings with explicit factors = %v", warns)
	}
}

func TestUnknownKeyHints(t *testing.T) {
	_, warns, err := Load("", map[string]string{"retention.ms": "1", "listener.name.x.nope": "1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(warns) != 2 || !strings.Contains(warns[1].Msg, "log.retention.ms") {
		t.Errorf("warnings = %v", warns)
	}
}

func TestLoadKafkaShippedConfig(t *testing.T) {
	b, warns, err := Load("testdata/kafka4-server.properties", nil)
	if err != nil {
		t.Fatal(err)
	}
	// Two of its keys are accepted and ignored by Sluice, and startup says
	// so; the others are applied or set to their defaults.
	var ignored []string
	for _, w := range warns {
		ignored = append(ignored, w.Key)
	}
	if !reflect.DeepEqual(ignored, []string{"inter.broker.listener.name", "num.recovery.threads.per.data.dir"}) {
		t.Errorf("warnings: %v", warns)
	}
	if got := b.AdvertisedListeners; len(got) != 1 || got[0].String() != "PLAINTEXT://localhost:9092" {
		t.Errorf("AdvertisedListeners = %v", got)
	}
	if got := b.QuorumVoters; len(got) != 1 || got[0] != (Voter{ID: 1, Host: "localhost", Port: 9093}) {
		t.Errorf("QuorumVoters = %v", got)
	}
	if b.Listeners[0].Addr() != ":9092" || !reflect.DeepEqual(b.LogDirs, []string{"/tmp/kraft-combined-logs"}) {
		t.Errorf("Listeners=%v LogDirs=%v", b.Listeners, b.LogDirs)
	}
	// A bootstrap list naming another controller derives no voters.
	b = mustLoad(t, map[string]string{"controller.quorum.bootstrap.servers": "other:9093"})
	if len(b.QuorumVoters) != 0 {
		t.Errorf("QuorumVoters = %v", b.QuorumVoters)
	}
}
