package handler

// CreateTopics, versions 0-7.
//
// Each topic is created by the controller (one metadata entry for the
// whole request) or, with validate_only (v1+), only checked. Per-topic
// errors follow Kafka: TOPIC_ALREADY_EXISTS, INVALID_TOPIC_EXCEPTION,
// INVALID_PARTITIONS, INVALID_REPLICATION_FACTOR,
// INVALID_REPLICA_ASSIGNMENT, INVALID_CONFIG, INVALID_REQUEST for a name
// given twice; error messages from v1. From v5 the answer carries the
// partition count, replication factor and configs, and from v7 the topic
// id (KIP-516).

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/config"
	"github.com/sluice-io/sluice/internal/controller"
)

func handleCreateTopics(b *Broker, r *Request) *Reply {
	req := r.Msg.(*kmsg.CreateTopicsRequest)
	return Later(func() kmsg.Response {
		resp := kmsg.NewPtrCreateTopicsResponse()
		resp.SetVersion(req.GetVersion())
		ctx, cancel := context.WithTimeout(context.Background(), timeoutOr(req.TimeoutMillis, 30*time.Second))
		defer cancel()
		results, err := b.Controller.CreateTopics(ctx, req)
		for i := range req.Topics {
			var res controller.TopicResult // none when the controller was not reached
			if i < len(results) {
				res = results[i]
			}
			st := kmsg.NewCreateTopicsResponseTopic()
			st.Topic = req.Topics[i].Topic
			st.NumPartitions, st.ReplicationFactor = -1, -1
			switch {
			case err != nil:
				st.ErrorCode, st.ErrorMessage = controllerErrorCode(err), errorMessage(err)
			case res.Err != nil:
				st.ErrorCode = res.Err.Code
				msg := res.Message
				st.ErrorMessage = &msg
			default:
				st.TopicID = res.ID
				st.NumPartitions, st.ReplicationFactor = res.NumPartitions, res.ReplicationFactor
				st.Configs = b.createdTopicConfigs(st.Topic, requestConfigs(req.Topics[i]))
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp
	})
}

// timeoutOr turns a request's timeout_ms into a duration, with a default
// for a non-positive one.
func timeoutOr(ms int32, def time.Duration) time.Duration {
	if ms <= 0 {
		return def
	}
	return time.Duration(ms) * time.Millisecond
}

// createdTopicConfigs lists every config of a created topic with its
// value and source (v5+), as DescribeConfigs would.
func (b *Broker) createdTopicConfigs(topic string, overrides map[string]string) []kmsg.CreateTopicsResponseTopicConfig {
	im := b.Metadata.Current()
	if t := im.Topics[topic]; t != nil {
		overrides = t.Configs
	}
	var out []kmsg.CreateTopicsResponseTopicConfig
	for _, e := range config.DescribeTopic(b.dynamicConfig(im), overrides, nil, false, false) {
		c := kmsg.NewCreateTopicsResponseTopicConfig()
		c.Name, c.Value, c.ReadOnly = e.Name, e.Value, e.ReadOnly
		c.Source, c.IsSensitive = int8(e.Source), e.Sensitive
		out = append(out, c)
	}
	return out
}

// requestConfigs are the overrides a CreateTopics entry asks for (used to
// answer validate_only requests, where no topic exists).
func requestConfigs(t kmsg.CreateTopicsRequestTopic) map[string]string {
	m := map[string]string{}
	for _, c := range t.Configs {
		if c.Value != nil {
			m[c.Name] = *c.Value
		}
	}
	return m
}
