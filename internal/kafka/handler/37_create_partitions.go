package handler

// CreatePartitions, versions 0-3.
//
// Raises the partition count of existing topics through the controller
// (one metadata entry for the whole request), or with validate_only only
// checks it. New partitions take the replication factor of partition 0
// and are spread over the live brokers, unless the request assigns their
// replicas explicitly. Per-topic errors follow Kafka's controller, with
// its messages: INVALID_PARTITIONS when the count is not an increase,
// INVALID_REPLICA_ASSIGNMENT for a bad assignment,
// INVALID_REPLICATION_FACTOR when too few brokers are live,
// UNKNOWN_TOPIC_OR_PARTITION, INVALID_REQUEST for a topic named twice.
// v1 adds nothing but throttling; v2 is flexible.

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func handleCreatePartitions(b *Broker, r *Request) *Reply {
	req := r.Msg.(*kmsg.CreatePartitionsRequest)
	return Later(func() kmsg.Response {
		resp := kmsg.NewPtrCreatePartitionsResponse()
		resp.SetVersion(req.GetVersion())
		ctx, cancel := context.WithTimeout(context.Background(), timeoutOr(req.TimeoutMillis, 30*time.Second))
		defer cancel()
		results, err := b.Controller.CreatePartitions(ctx, req)
		if err != nil {
			seen := map[string]bool{}
			for _, t := range req.Topics {
				if !seen[t.Topic] {
					seen[t.Topic] = true
					st := kmsg.NewCreatePartitionsResponseTopic()
					st.Topic, st.ErrorCode, st.ErrorMessage = t.Topic, controllerErrorCode(err), errorMessage(err)
					resp.Topics = append(resp.Topics, st)
				}
			}
			return resp
		}
		for _, res := range results {
			st := kmsg.NewCreatePartitionsResponseTopic()
			st.Topic = res.Name
			if res.Err != nil {
				st.ErrorCode = res.Err.Code
				if res.Message != "" {
					msg := res.Message
					st.ErrorMessage = &msg
				}
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp
	})
}
