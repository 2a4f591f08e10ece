package handler

// DeleteTopics, versions 0-6.
//
// Topics are deleted by the controller, one RemoveTopicRecord each, all
// in one metadata entry; when it is applied the replica reconciler deletes
// their logs on every broker hosting them. Topics are named by name, and
// from v6 by topic id (KIP-516): an unknown name gets
// UNKNOWN_TOPIC_OR_PARTITION, an unknown id UNKNOWN_TOPIC_ID, a name or id
// given twice INVALID_REQUEST. Internal topics may be deleted, as in
// Kafka 4. With delete.topic.enable=false every topic gets
// TOPIC_DELETION_DISABLED (INVALID_REQUEST before v3, which lacks the
// code). Error messages are sent from v5, topic ids from v6.

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/model"
)

func handleDeleteTopics(b *Broker, r *Request) *Reply {
	req := r.Msg.(*kmsg.DeleteTopicsRequest)
	if !b.staticConfig().DeleteTopicEnable {
		code := kerr.TopicDeletionDisabled.Code
		if req.GetVersion() < 3 {
			code = kerr.InvalidRequest.Code
		}
		return Now(deleteTopicsFailed(req, code, nil))
	}
	return Later(func() kmsg.Response {
		ctx, cancel := context.WithTimeout(context.Background(), timeoutOr(req.TimeoutMillis, 30*time.Second))
		defer cancel()
		results, err := b.Controller.DeleteTopics(ctx, req)
		if err != nil {
			return deleteTopicsFailed(req, controllerErrorCode(err), errorMessage(err))
		}
		resp := kmsg.NewPtrDeleteTopicsResponse()
		resp.SetVersion(req.GetVersion())
		for _, res := range results {
			st := kmsg.NewDeleteTopicsResponseTopic()
			if res.Name != "" || req.GetVersion() < 6 {
				name := res.Name
				st.Topic = &name
			}
			st.TopicID = res.ID
			if res.Err != nil {
				msg := res.Message
				st.ErrorCode, st.ErrorMessage = res.Err.Code, &msg
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp
	})
}

// deleteTopicsFailed answers every topic of req with code, as Kafka's
// DeleteTopicsRequest.getErrorResponse does.
func deleteTopicsFailed(req *kmsg.DeleteTopicsRequest, code int16, msg *string) *kmsg.DeleteTopicsResponse {
	resp := kmsg.NewPtrDeleteTopicsResponse()
	resp.SetVersion(req.GetVersion())
	add := func(name *string, id model.TopicID) {
		st := kmsg.NewDeleteTopicsResponseTopic()
		st.Topic, st.TopicID, st.ErrorCode, st.ErrorMessage = name, id, code, msg
		resp.Topics = append(resp.Topics, st)
	}
	for i := range req.TopicNames {
		add(&req.TopicNames[i], model.TopicID{})
	}
	for _, t := range req.Topics {
		add(t.Topic, t.TopicID)
	}
	return resp
}
