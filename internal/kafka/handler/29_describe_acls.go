package handler

// DescribeAcls (29), CreateAcls (30), DeleteAcls (31), versions 0-3.
//
// Sluice has no authorizer yet (authorizer.class.name stops startup), and
// a Kafka broker without one still serves the ACL APIs, answering
// SECURITY_DISABLED: kafka-acls.sh then says that no authorizer is
// configured instead of failing on an unsupported API. DescribeAcls
// answers at the top level; CreateAcls and DeleteAcls answer each
// creation and each filter (Kafka's AclApis with authorizer None).

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func handleDescribeAcls(b *Broker, r *Request) *Reply {
	resp := kmsg.NewPtrDescribeACLsResponse()
	resp.SetVersion(r.Msg.GetVersion())
	resp.ErrorCode = kerr.SecurityDisabled.Code
	resp.ErrorMessage = kmsg.StringPtr("No Authorizer is configured on the broker")
	return Now(resp)
}

func handleCreateAcls(b *Broker, r *Request) *Reply {
	req := r.Msg.(*kmsg.CreateACLsRequest)
	resp := kmsg.NewPtrCreateACLsResponse()
	resp.SetVersion(req.GetVersion())
	for range req.Creations {
		res := kmsg.NewCreateACLsResponseResult()
		res.ErrorCode, res.ErrorMessage = kerr.SecurityDisabled.Code, kmsg.StringPtr("No Authorizer is configured.")
		resp.Results = append(resp.Results, res)
	}
	return Now(resp)
}

func handleDeleteAcls(b *Broker, r *Request) *Reply {
	req := r.Msg.(*kmsg.DeleteACLsRequest)
	resp := kmsg.NewPtrDeleteACLsResponse()
	resp.SetVersion(req.GetVersion())
	for range req.Filters {
		res := kmsg.NewDeleteACLsResponseResult()
		res.ErrorCode, res.ErrorMessage = kerr.SecurityDisabled.Code, kmsg.StringPtr("No Authorizer is configured.")
		resp.Results = append(resp.Results, res)
	}
	return Now(resp)
}
