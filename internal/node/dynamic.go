package node

import (
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"sync"

	"github.com/sluice-io/sluice/internal/config"
	"github.com/sluice-io/sluice/internal/metadata"
	"github.com/sluice-io/sluice/internal/model"
	"github.com/sluice-io/sluice/internal/replica"
)

// Dynamic broker configs (KIP-226): AlterConfigs on a BROKER resource
// writes a per-broker layer (resource name = node id) or the cluster
// default layer (empty name) into the metadata log. The broker applies
// them on top of its file and flags: effective follows the image, so a
// change takes effect when its entry is applied and survives restarts
// (the layers are in the log). Topic defaults (log.retention.ms,
// message.max.bytes, ...) reach partitions through the resolver, which
// the replica reconciler calls again for every partition when the layers
// change; other dynamic keys are pushed by the node's metadata listener.

// effective is the broker config in force for a metadata image: the static
// config with the image's dynamic layers. Safe for concurrent use.
type effective struct {
	static *config.Broker
	self   string // this node's id, the per-broker layer's resource name
	log    *slog.Logger

	mu     sync.Mutex
	pb, cd map[string]string // the layers cur was built from
	cur    *config.Broker
}

func newEffective(static *config.Broker, self model.NodeID, log *slog.Logger) *effective {
	return &effective{static: static, self: strconv.Itoa(int(self)), log: log}
}

// forImage returns the config in force with im's dynamic layers, built
// once per change of the layers. A layer that cannot apply (an unknown
// key, an invalid value) is logged and skipped, as Kafka does: the broker
// applies what the log holds.
func (e *effective) forImage(im *metadata.Image) *config.Broker {
	pb, cd := im.BrokerConfigs[e.self], im.BrokerConfigs[""]
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cur != nil && maps.Equal(pb, e.pb) && maps.Equal(cd, e.cd) {
		return e.cur
	}
	cur, warns := e.static.WithDynamic(pb, cd)
	for _, w := range warns {
		e.log.Warn("dynamic broker config: " + w.String())
	}
	for _, layer := range []map[string]string{pb, cd} {
		for _, k := range slices.Sorted(maps.Keys(layer)) {
			if why, ignored := config.NotApplied(k); ignored && (e.cur == nil || layer[k] != e.valueIn(k)) {
				e.log.Warn("dynamic broker config "+k+": "+config.IgnoredMessage(why), "value", layer[k])
			}
		}
	}
	e.cur, e.pb, e.cd = cur, pb, cd
	return cur
}

// valueIn is k's value in the current layers. Called under mu.
func (e *effective) valueIn(k string) string {
	if v, ok := e.pb[k]; ok {
		return v
	}
	return e.cd[k]
}

// resolver resolves a topic's overrides against the config in force for
// the image. The overrides were validated when written, so an error here
// means the broker defaults changed under them: the defaults are used and
// it is logged. Ignored topic keys are logged as each topic is resolved.
func (e *effective) resolver() func(*metadata.Image, map[string]string) replica.Config {
	return func(im *metadata.Image, overrides map[string]string) replica.Config {
		cfg := e.forImage(im)
		t, err := config.ResolveTopic(cfg, overrides)
		if err != nil {
			e.log.Error("topic config no longer valid; using broker defaults", "err", err)
			t = cfg.TopicDefaults()
		}
		for _, k := range slices.Sorted(maps.Keys(overrides)) {
			if why, ignored := config.NotApplied(k); ignored {
				e.log.Warn("topic config "+k+": "+config.IgnoredMessage(why), "value", overrides[k])
			}
		}
		rc := ReplicaConfig(t)
		rc.ProducerIDExpirationMs = int64(cfg.ProducerIDExpirationMs)
		rc.ReplicaLagTimeMaxMs = cfg.ReplicaLagTimeMaxMs
		return rc
	}
}

// uncleanLeaderElection is unclean.leader.election.enable for t as im
// has the configs (the controller's election policy).
func (e *effective) uncleanLeaderElection(im *metadata.Image, t *metadata.Topic) bool {
	tc, err := config.ResolveTopic(e.forImage(im), t.Configs)
	return err == nil && tc.UncleanLeaderElection
}

// minInsyncReplicas is min.insync.replicas for t as im has the configs
// (which decides its eligible leader replicas); 1, which keeps no ELR,
// when the configs do not resolve.
func (e *effective) minInsyncReplicas(im *metadata.Image, t *metadata.Topic) int {
	tc, err := config.ResolveTopic(e.forImage(im), t.Configs)
	if err != nil {
		return 1
	}
	return int(tc.MinInsyncReplicas)
}
