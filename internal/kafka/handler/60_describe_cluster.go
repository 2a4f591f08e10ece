package handler

// DescribeCluster, versions 0-2.
//
// KIP-700: the cluster id, the controller (this node: every Sluice node
// that serves Kafka clients is also a controller today) and the
// registered brokers with their advertised endpoints, as Kafka's
// AuthHelper.computeDescribeClusterResponse builds it. This endpoint
// serves brokers (KIP-919, v1+): endpoint_type 2 (controllers) gets
// MISMATCHED_ENDPOINT_TYPE, any other value UNSUPPORTED_ENDPOINT_TYPE
//. Fenced brokers are listed only when
// include_fenced_brokers is set (v2, KIP-1073), flagged is_fenced.
// cluster_authorized_operations is sent when asked for: every CLUSTER
// operation, since no authorizer is configured.

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Kafka's EndpointType (KIP-919).
const (
	endpointBroker     int8 = 1
	endpointController int8 = 2
)

// clusterOperations is the bit field of every operation Kafka supports
// on the CLUSTER resource (AclEntry.supportedOperations).
var clusterOperations = operationBits(kmsg.ACLOperationCreate, kmsg.ACLOperationClusterAction,
	kmsg.ACLOperationDescribeConfigs, kmsg.ACLOperationAlterConfigs, kmsg.ACLOperationIdempotentWrite,
	kmsg.ACLOperationAlter, kmsg.ACLOperationDescribe)

// operationBits is the authorized-operations bit field of ops.
func operationBits(ops ...kmsg.ACLOperation) int32 {
	var bits int32
	for _, op := range ops {
		bits |= 1 << op
	}
	return bits
}

func handleDescribeCluster(b *Broker, r *Request) *Reply {
	req := r.Msg.(*kmsg.DescribeClusterRequest)
	resp := kmsg.NewPtrDescribeClusterResponse()
	resp.SetVersion(req.GetVersion())
	if req.GetVersion() >= 1 && req.EndpointType != endpointBroker {
		code, msg := kerr.UnsupportedEndpointType.Code, fmt.Sprintf("Unsupported endpoint type %d", req.EndpointType)
		if req.EndpointType == endpointController {
			code, msg = kerr.MismatchedEndpointType.Code, "The request was sent to an endpoint of type BROKER, but we wanted an endpoint of type CONTROLLER"
		}
		resp.ErrorCode, resp.ErrorMessage = code, &msg
		return Now(resp)
	}
	im := b.Metadata.Current()
	resp.EndpointType = endpointBroker
	resp.ClusterID = im.ClusterID
	resp.ControllerID = -1
	resp.ClusterAuthorizedOperations = authorizedOpsNotRequested
	if req.IncludeClusterAuthorizedOperations {
		resp.ClusterAuthorizedOperations = clusterOperations
	}
	for _, id := range im.BrokerIDs() {
		br := im.Brokers[id]
		if br.Fenced && !req.IncludeFencedBrokers {
			continue
		}
		sb := kmsg.NewDescribeClusterResponseBroker()
		sb.NodeID, sb.Host, sb.Port, sb.IsFenced = int32(id), br.Host, br.Port, br.Fenced
		if br.Rack != "" {
			rack := br.Rack
			sb.Rack = &rack
		}
		resp.Brokers = append(resp.Brokers, sb)
		if id == b.Settings.ControllerID {
			resp.ControllerID = int32(id) // Kafka answers -1 for a controller it cannot list
		}
	}
	return Now(resp)
}
