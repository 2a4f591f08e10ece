package node

import (
	"log/slog"
	"time"

	"github.com/sluice-io/sluice/internal/config"
	"github.com/sluice-io/sluice/internal/controller"
	"github.com/sluice-io/sluice/internal/coord/group"
	"github.com/sluice-io/sluice/internal/coord/txn"
	"github.com/sluice-io/sluice/internal/kafka/handler"
)

// TestOptions are options for a node in tests: node 1, data in dir, a free
// loopback port, Kafka's defaults otherwise.
func TestOptions(dir string) Options {
	eff := newEffective(config.Default(), 1, slog.New(slog.DiscardHandler))
	return Options{
		eff:      eff,
		NodeID:   1,
		DataDir:  dir,
		Listener: Listener{Name: "PLAINTEXT", Addr: "127.0.0.1:0"},
		Handler: handler.Settings{NodeID: 1, ControllerID: 1, AutoCreateTopics: true, NumPartitions: 1,
			ReplicationFactor: 1, FetchSessionSlots: 1000, Config: config.Default(), LogDir: dir},
		Controller: controller.Options{NumPartitions: 1, DefaultReplicationFactor: 1,
			ValidateTopicConfigs:  func(o map[string]string) error { _, err := config.ResolveTopic(nil, o); return err },
			ValidateBrokerConfigs: func(layer map[string]string) error { return config.ValidateBrokerAlter(config.Default(), true, layer) },
			UncleanLeaderElection: eff.uncleanLeaderElection, MinInsyncReplicas: eff.minInsyncReplicas},
		MaxRequestBytes:        100 << 20,
		TopicConfig:            eff.resolver(),
		RetentionCheckInterval: 5 * time.Minute,
		CleanerInterval:        15 * time.Second,
		Groups:                 testGroupOptions(),
		Txns:                   testTxnOptions(),
		Connections:            connectionLimits(config.Default(), "PLAINTEXT"),
		Requests:               requestLimits(config.Default()),
		IdleTimeout:            idleTimeout(config.Default()),
	}
}

// testGroupOptions are Kafka's group defaults made fast for tests: a
// small __consumer_offsets and no initial rebalance delay.
func testGroupOptions() group.Options {
	o := group.DefaultOptions()
	o.OffsetsTopicPartitions = 5
	o.InitialRebalanceDelay = 0
	o.MinSessionTimeout = 100 * time.Millisecond
	o.OffsetsTopicReplicationFactor = 1
	return o
}

// testTxnOptions are Kafka's transaction defaults made fast for tests: a
// small __transaction_state and a timed-out transaction check every 100ms.
func testTxnOptions() txn.Options {
	o := txn.DefaultOptions()
	o.TopicPartitions = 5
	o.AbortTimedOutInterval = 100 * time.Millisecond
	o.TopicReplicationFactor = 1
	return o
}
