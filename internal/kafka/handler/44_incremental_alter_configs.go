package handler

// IncrementalAlterConfigs, versions 0-1.
//
// KIP-339: per key of a TOPIC or BROKER resource, SET a value, DELETE the
// dynamic value (back to the inherited one), or APPEND to / SUBTRACT from
// a LIST key (starting from the key's default when it has no dynamic
// value). validate_only only checks. All changes of one request go
// through the controller as one metadata entry of ConfigRecords; running
// partitions pick up a topic's new configs when the replica reconciler
// applies it. Errors follow Kafka, per resource: INVALID_CONFIG with the
// validator's message ("Can't APPEND to key x because its type is not
// LIST." for a topic key), INVALID_REQUEST for a key or resource given
// twice, a null value for anything but DELETE, an unknown operation, or
// APPEND/SUBTRACT on a non-list broker key; UNKNOWN_TOPIC_OR_PARTITION;
// BROKER_ID_NOT_REGISTERED. v1 is flexible.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func handleIncrementalAlterConfigs(b *Broker, r *Request) *Reply {
	req := r.Msg.(*kmsg.IncrementalAlterConfigsRequest)
	return Later(func() kmsg.Response {
		resp := kmsg.NewPtrIncrementalAlterConfigsResponse()
		resp.SetVersion(req.GetVersion())
		ctx, cancel := context.WithTimeout(context.Background(), alterConfigsTimeout)
		defer cancel()
		results, err := b.Controller.IncrementalAlterConfigs(ctx, req)
		if err != nil {
			results = alterFailed(req.Resources, func(r kmsg.IncrementalAlterConfigsRequestResource) (kmsg.ConfigResourceType, string) {
				return r.ResourceType, r.ResourceName
			}, err)
		}
		for _, res := range results {
			rr := kmsg.NewIncrementalAlterConfigsResponseResource()
			rr.ResourceType, rr.ResourceName = res.Type, res.Name
			rr.ErrorCode, rr.ErrorMessage = configResultError(res)
			resp.Resources = append(resp.Resources, rr)
		}
		return resp
	})
}
