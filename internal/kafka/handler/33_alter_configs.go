package handler

// AlterConfigs, versions 0-2.
//
// The legacy, full-replace alter: each TOPIC or BROKER resource's dynamic
// configs become exactly the ones given (keys not named are removed), or
// with validate_only are only checked. All changes of one request go
// through the controller as one metadata entry of ConfigRecords; running
// partitions pick up a topic's new configs when the replica reconciler
// applies it. A BROKER resource is a broker id or "" for the cluster-wide
// default (KIP-226). Per-resource errors follow Kafka: INVALID_CONFIG with
// the validator's message, INVALID_REQUEST for a null value, a key or a
// resource given twice, UNKNOWN_TOPIC_OR_PARTITION, BROKER_ID_NOT_REGISTERED.
// v1 adds throttling, v2 is flexible.

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/controller"
)

// alterConfigsTimeout bounds a controller write for the alter APIs,
// whose requests carry no timeout.
const alterConfigsTimeout = 30 * time.Second

func handleAlterConfigs(b *Broker, r *Request) *Reply {
	req := r.Msg.(*kmsg.AlterConfigsRequest)
	return Later(func() kmsg.Response {
		resp := kmsg.NewPtrAlterConfigsResponse()
		resp.SetVersion(req.GetVersion())
		ctx, cancel := context.WithTimeout(context.Background(), alterConfigsTimeout)
		defer cancel()
		results, err := b.Controller.AlterConfigs(ctx, req)
		if err != nil {
			results = alterFailed(req.Resources, func(r kmsg.AlterConfigsRequestResource) (kmsg.ConfigResourceType, string) {
				return r.ResourceType, r.ResourceName
			}, err)
		}
		for _, res := range results {
			rr := kmsg.NewAlterConfigsResponseResource()
			rr.ResourceType, rr.ResourceName = res.Type, res.Name
			rr.ErrorCode, rr.ErrorMessage = configResultError(res)
			resp.Resources = append(resp.Resources, rr)
		}
		return resp
	})
}

// alterFailed answers every resource with REQUEST_TIMED_OUT when the
// controller write did not complete.
func alterFailed[R any](resources []R, key func(R) (kmsg.ConfigResourceType, string), err error) []controller.ConfigResult {
	out := make([]controller.ConfigResult, len(resources))
	for i, r := range resources {
		t, name := key(r)
		out[i] = controller.ConfigResult{Type: t, Name: name, Err: controllerError(err), Message: err.Error()}
	}
	return out
}

// configResultError is a result's error code and message (nil on success).
func configResultError(res controller.ConfigResult) (int16, *string) {
	if res.Err == nil {
		return 0, nil
	}
	msg := res.Message
	if msg == "" {
		return res.Err.Code, nil
	}
	return res.Err.Code, &msg
}
