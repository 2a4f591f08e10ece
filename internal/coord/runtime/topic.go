package runtime

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/controller"
	"github.com/sluice-io/sluice/internal/metadata"
	"github.com/sluice-io/sluice/internal/model"
)

// loadWait bounds how long FindCoordinator waits for a loading shard.
const loadWait = time.Second

// TopicCreator creates topics through the controller.
type TopicCreator interface {
	CreateTopics(ctx context.Context, req *kmsg.CreateTopicsRequest) ([]controller.TopicResult, error)
}

// InternalTopic is the compacted topic a coordinator keeps its state in
// (__consumer_offsets, __transaction_state).
type InternalTopic struct {
	Name              string
	Partitions        int32
	ReplicationFactor int16 // offsets.topic.replication.factor or its transaction twin
	// Configs are the topic configs; "min.insync.replicas", when set, is
	// capped at the replication factor used.
	Configs map[string]string
}

// CreateInternalTopic creates t unless im already has it, with its
// configured replication factor. Fewer live brokers than that is an error
// (FindCoordinator answers COORDINATOR_NOT_AVAILABLE, which clients
// retry), as in Kafka: capping it, as Sluice once did, made a cluster
// whose first request came before every broker registered keep its group
// offsets on one broker forever, and lose them with it (found by
// TestClusterGroupCoordinatorMoves). A concurrent creation
// (TOPIC_ALREADY_EXISTS) is success. It returns the replication factor
// used (0 when the topic existed).
func CreateInternalTopic(ctx context.Context, im *metadata.Image, creator TopicCreator, t InternalTopic) (int, error) {
	if im.Topics[t.Name] != nil {
		return 0, nil
	}
	live := 0
	for _, b := range im.Brokers {
		if !b.Fenced {
			live++
		}
	}
	rf := int(t.ReplicationFactor)
	if rf > live {
		return 0, fmt.Errorf("%d live broker(s), fewer than the replication factor %d of %s: waiting for more brokers", live, rf, t.Name)
	}
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = t.Name, t.Partitions, int16(rf)
	for k, v := range t.Configs {
		if k == "min.insync.replicas" {
			var isr int
			if _, err := fmt.Sscan(v, &isr); err == nil && isr > rf {
				v = fmt.Sprint(rf)
			}
		}
		cfg := kmsg.NewCreateTopicsRequestTopicConfig()
		cfg.Name, cfg.Value = k, kmsg.StringPtr(v)
		rt.Configs = append(rt.Configs, cfg)
	}
	req := kmsg.NewPtrCreateTopicsRequest()
	req.Topics = append(req.Topics, rt)
	res, err := creator.CreateTopics(ctx, req)
	if err != nil {
		return 0, fmt.Errorf("create %s: %w", t.Name, err)
	}
	if len(res) == 1 && res[0].Err != nil && !errors.Is(res[0].Err, kerr.TopicAlreadyExists) {
		return 0, fmt.Errorf("create %s: %w: %s", t.Name, res[0].Err, res[0].Message)
	}
	return rf, nil
}

// FindCoordinator returns the broker that coordinates key: the leader of
// its partition of the internal topic. The first call creates the topic.
// The code is COORDINATOR_NOT_AVAILABLE when the topic cannot be created
// or the partition has no live leader. A nil ctx is the background.
func (s *Slots[M]) FindCoordinator(ctx context.Context, key string) (model.NodeID, int16, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := s.ensureTopic(ctx); err != nil {
		return -1, codeCoordinatorNotAvailable, err
	}
	im := s.cfg.Metadata.Current()
	t := im.Topics[s.cfg.Topic.Name]
	if t == nil || len(t.Partitions) == 0 {
		return -1, codeCoordinatorNotAvailable, fmt.Errorf("%s topic has no partitions", s.cfg.Label)
	}
	pid := Partition(key, int32(len(t.Partitions)))
	p := t.Partitions[pid]
	if b := im.Brokers[p.Leader]; b == nil || b.Fenced {
		return -1, codeCoordinatorNotAvailable, fmt.Errorf("%s partition leader %d is not available", s.cfg.Label, p.Leader)
	}
	if p.Leader == s.cfg.Node {
		s.awaitLoad(ctx, pid)
	}
	return p.Leader, 0, nil
}

// awaitLoad waits a little for a local shard that is loading (a new
// topic, a restart), so the client's next request finds it loaded rather
// than COORDINATOR_LOAD_IN_PROGRESS and a retry backoff.
func (s *Slots[M]) awaitLoad(ctx context.Context, partition int32) {
	s.mu.Lock()
	sl := s.slots[partition]
	s.mu.Unlock()
	if sl == nil {
		return
	}
	t := time.NewTimer(loadWait)
	defer t.Stop()
	select {
	case <-sl.ready:
	case <-t.C:
	case <-ctx.Done():
	}
}

// ensureTopic creates the internal topic when missing
// (CreateInternalTopic), one creation at a time.
func (s *Slots[M]) ensureTopic(ctx context.Context) error {
	if s.cfg.Metadata.Current().Topics[s.cfg.Topic.Name] != nil {
		return nil
	}
	s.createMu.Lock()
	defer s.createMu.Unlock()
	rf, err := CreateInternalTopic(ctx, s.cfg.Metadata.Current(), s.cfg.Topics, s.cfg.Topic)
	if err != nil || rf == 0 {
		return err
	}
	s.cfg.Logger.Info("created "+s.cfg.Label+" topic", "partitions", s.cfg.Topic.Partitions, "replication_factor", rf)
	return nil
}
