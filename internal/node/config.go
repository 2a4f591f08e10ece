package node

import (
	"fmt"
	"github.com/sluice-io/sluice/internal/batch"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/sluice-io/sluice/internal/cluster"
	"github.com/sluice-io/sluice/internal/config"
	"github.com/sluice-io/sluice/internal/controller"
	"github.com/sluice-io/sluice/internal/coord/group"
	"github.com/sluice-io/sluice/internal/coord/txn"
	"github.com/sluice-io/sluice/internal/kafka/handler"
	"github.com/sluice-io/sluice/internal/replica"
	"github.com/sluice-io/sluice/internal/storage"
)

// FromConfig turns a validated broker config into node options.
func FromConfig(cfg *config.Broker, log *slog.Logger) (Options, error) {
	if err := unsupported(cfg); err != nil {
		return Options{}, err
	}
	l, ok := kafkaListener(cfg)
	if !ok {
		return Options{}, fmt.Errorf("listeners: no broker listener (every listener is a controller listener)")
	}
	adv := l
	for _, a := range cfg.AdvertisedListeners {
		if a.Name == l.Name {
			adv = a
		}
	}
	if len(cfg.LogDirs) == 0 {
		return Options{}, fmt.Errorf("log.dirs: no directory")
	}
	eff := newEffective(cfg, cfg.NodeID, log)
	return Options{
		NodeID:             cfg.NodeID,
		Rack:               cfg.Rack,
		ControllerListener: controllerListener(cfg),
		ControllerVoters:   controllerAddrs(cfg),
		Voters:             quorumPeers(cfg),
		ElectionTimeout:    time.Duration(cfg.Int("controller.quorum.election.timeout.ms")) * time.Millisecond,
		DataDir:            cfg.LogDirs[0],
		MetadataDir:        cfg.MetadataLogDir,
		Listener:           Listener{Name: l.Name, Addr: l.Addr(), AdvertisedHost: adv.Host, AdvertisedPort: int32(adv.Port)},
		Handler: handler.Settings{
			NodeID:            cfg.NodeID,
			AutoCreateTopics:  cfg.AutoCreateTopics,
			NumPartitions:     cfg.NumPartitions,
			ReplicationFactor: cfg.DefaultReplicationFactor,
			FetchMaxBytes:     cfg.FetchMaxBytes,
			FetchSessionSlots: int(cfg.Int("max.incremental.fetch.session.cache.slots")),
			Config:            cfg,
			LogDir:            cfg.LogDirs[0],
			ControllerID:      controllerID(cfg),
		},
		Controller: controller.Options{
			NumPartitions:            cfg.NumPartitions,
			DefaultReplicationFactor: cfg.DefaultReplicationFactor,
			ValidateTopicConfigs: func(overrides map[string]string) error {
				_, err := config.ResolveTopic(cfg, overrides)
				return err
			},
			ValidateBrokerConfigs: func(layer map[string]string) error {
				return config.ValidateBrokerAlter(cfg, true, layer)
			},
			UncleanLeaderElection: eff.uncleanLeaderElection,
			MinInsyncReplicas:     eff.minInsyncReplicas,
		},
		MaxRequestBytes:                   cfg.SocketRequestMaxBytes,
		SocketSendBuffer:                  int(cfg.Int("socket.send.buffer.bytes")),
		SocketReceiveBuffer:               int(cfg.Int("socket.receive.buffer.bytes")),
		TopicConfig:                       eff.resolver(),
		SyncFileSystem:                    cfg.FsyncScope == "filesystem",
		IdleClose:                         idleClose(cfg.IdleCloseMs),
		WritebackBytes:                    cfg.WritebackBytes,
		RetentionCheckInterval:            time.Duration(cfg.LogRetentionCheckIntervalMs) * time.Millisecond,
		ProducerIDExpirationCheckInterval: time.Duration(cfg.Int("producer.id.expiration.check.interval.ms")) * time.Millisecond,
		HWCheckpointInterval:              time.Duration(cfg.Int("replica.high.watermark.checkpoint.interval.ms")) * time.Millisecond,
		SessionTimeout:                    time.Duration(cfg.Int("broker.session.timeout.ms")) * time.Millisecond,
		ISRCheckInterval:                  time.Duration(cfg.ReplicaLagTimeMaxMs/2) * time.Millisecond,
		HeartbeatInterval:                 time.Duration(cfg.Int("broker.heartbeat.interval.ms")) * time.Millisecond,
		Fetch: cluster.FetcherOptions{
			NumFetchers:       int(cfg.Int("num.replica.fetchers")),
			MinBytes:          int32(cfg.Int("replica.fetch.min.bytes")),
			MaxWait:           time.Duration(cfg.Int("replica.fetch.wait.max.ms")) * time.Millisecond,
			MaxBytes:          int32(cfg.Int("replica.fetch.response.max.bytes")),
			PartitionMaxBytes: int32(cfg.Int("replica.fetch.max.bytes")),
			Backoff:           time.Duration(cfg.Int("replica.fetch.backoff.ms")) * time.Millisecond,
		},
		CleanerInterval: cleanerInterval(cfg),
		Groups:          group.OptionsFromConfig(cfg),
		Txns:            txn.OptionsFromConfig(cfg),
		Connections:     connectionLimits(cfg, l.Name),
		Requests:        requestLimits(cfg),
		IdleTimeout:     idleTimeout(cfg),
		Log:             log,
		eff:             eff,
	}, nil
}

// controllerListener is the listener named first in
// controller.listener.names, nil when listeners has none or the node is
// not a controller.
func controllerListener(cfg *config.Broker) *Listener {
	if !cfg.HasRole("controller") {
		return nil
	}
	for _, name := range cfg.ControllerListenerNames {
		for _, l := range cfg.Listeners {
			if l.Name == name {
				return &Listener{Name: l.Name, Addr: l.Addr()}
			}
		}
	}
	return nil
}

// kafkaListener is the first listener that is not a controller listener.
func kafkaListener(cfg *config.Broker) (config.Listener, bool) {
	for _, l := range cfg.Listeners {
		if !slices.Contains(cfg.ControllerListenerNames, l.Name) {
			return l, true
		}
	}
	return config.Listener{}, false
}

// ReplicaConfig maps a resolved topic config onto a partition's config.
func ReplicaConfig(t config.Topic) replica.Config {
	retentionMs, retentionBytes := t.RetentionMs, t.RetentionBytes
	if !t.Delete() {
		retentionMs, retentionBytes = -1, -1
	}
	return replica.Config{
		Storage: storage.Config{
			SegmentBytes:       int64(t.SegmentBytes),
			SegmentMs:          t.SegmentMs,
			SegmentJitterMs:    t.SegmentJitterMs,
			IndexIntervalBytes: t.IndexIntervalBytes,
			SegmentIndexBytes:  t.SegmentIndexBytes,
			RetentionMs:        retentionMs,
			RetentionBytes:     retentionBytes,
			FlushMessages:      t.FlushMessages,
			FlushMs:            t.FlushMs,
			FileDeleteDelayMs:  t.FileDeleteDelayMs,
			Preallocate:        t.Preallocate,
			CleanupPolicy:      strings.Join(t.CleanupPolicy, ","),

			DeleteRetentionMs:      t.DeleteRetentionMs,
			MinCompactionLagMs:     t.MinCompactionLagMs,
			MaxCompactionLagMs:     t.MaxCompactionLagMs,
			MinCleanableDirtyRatio: t.MinCleanableDirtyRatio,
		},
		MaxMessageBytes:      t.MaxMessageBytes,
		LogAppendTime:        t.LogAppendTime(),
		TimestampBeforeMaxMs: t.TimestampBeforeMaxMs,
		TimestampAfterMaxMs:  t.TimestampAfterMaxMs,
		MinInsyncReplicas:    t.MinInsyncReplicas,
		Codec:                codecOf(t.CompressionType),
		WriteCaching:         t.WriteCaching,
	}
}

// codecOf maps compression.type to a batch codec; -1 is "producer".
func codecOf(compression string) int {
	switch compression {
	case "uncompressed":
		return batch.CodecNone
	case "gzip":
		return batch.CodecGzip
	case "snappy":
		return batch.CodecSnappy
	case "lz4":
		return batch.CodecLZ4
	case "zstd":
		return batch.CodecZstd
	}
	return -1
}

// idleClose maps sluice.log.idle.close.ms (-1: never) to Options.IdleClose.
func idleClose(ms int64) time.Duration {
	if ms < 0 {
		return -1
	}
	return time.Duration(ms) * time.Millisecond
}

// cleanerInterval is log.cleaner.backoff.ms, or 0 when log.cleaner.enable
// is off.
func cleanerInterval(cfg *config.Broker) time.Duration {
	if !cfg.LogCleanerEnable {
		return 0
	}
	return time.Duration(cfg.Int("log.cleaner.backoff.ms")) * time.Millisecond
}
