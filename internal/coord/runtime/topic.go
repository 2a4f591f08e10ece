package runtime

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/controller"
	"github.com/sluice-io/sluice/internal/metadata"
)

// TopicCreator creates topics through the controller.
type TopicCreator interface {
	CreateTopics(ctx context.Context, req *kmsg.CreateTopicsRequest) ([]controller.TopicResult, error)
}

// InternalTopic is the compacted topic a coordinator keeps its state in
// (__consumer_offsets, __transaction_state).
type InternalTopic struct {
	Name              string
	Partitions        int32
	ReplicationFactor int16 // capped at the live brokers
	// Configs are the topic configs; "min.insync.replicas", when set, is
	// capped at the replication factor used.
	Configs map[string]string
}

// CreateInternalTopic creates t unless im already has it, with a
// replication factor of at most the live brokers. A concurrent creation
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
	rf := min(int(t.ReplicationFactor), live)
	if rf < 1 {
		return 0, fmt.Errorf("no live broker for %s", t.Name)
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
