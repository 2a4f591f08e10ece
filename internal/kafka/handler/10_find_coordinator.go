package handler

// FindCoordinator, versions 0-6.
//
// A group's coordinator is the leader of its __consumer_offsets partition
// (abs(javaHashCode(group)) % partitions). The first lookup creates
// __consumer_offsets (offsets.topic.num.partitions partitions, compacted)
// through the controller. v0-v3 ask for one key; v4+ for several
// (KIP-699), each answered on its own. Key type 0 is a group; 1 a
// transactional id, whose coordinator leads its __transaction_state
// partition (created by the first lookup, transaction.state.log.*
// settings); other types (2, share groups, KIP-932) are INVALID_REQUEST.
// Error messages from v1.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func handleFindCoordinator(b *Broker, r *Request) *Reply {
	req := r.Msg.(*kmsg.FindCoordinatorRequest)
	keys := req.CoordinatorKeys
	if req.Version < 4 {
		keys = []string{req.CoordinatorKey}
	}
	return Later(func() kmsg.Response {
		resp := req.ResponseKind().(*kmsg.FindCoordinatorResponse)
		for _, k := range keys {
			resp.Coordinators = append(resp.Coordinators, b.findCoordinator(r.Ctx, req.CoordinatorType, k))
		}
		if req.Version < 4 {
			c := resp.Coordinators[0]
			resp.Coordinators = nil
			resp.ErrorCode, resp.ErrorMessage, resp.NodeID, resp.Host, resp.Port = c.ErrorCode, c.ErrorMessage, c.NodeID, c.Host, c.Port
		}
		return resp
	})
}

// findCoordinator answers one key.
func (b *Broker) findCoordinator(ctx context.Context, keyType int8, key string) kmsg.FindCoordinatorResponseCoordinator {
	c := kmsg.NewFindCoordinatorResponseCoordinator()
	c.Key, c.NodeID, c.Port = key, -1, -1
	fail := func(e *kerr.Error, msg string) kmsg.FindCoordinatorResponseCoordinator {
		c.ErrorCode, c.ErrorMessage = e.Code, &msg
		return c
	}
	find := b.Groups.FindCoordinator
	switch keyType {
	case 0:
	case 1:
		find = b.Txns.FindCoordinator
	default:
		return fail(kerr.InvalidRequest, "Unsupported coordinator key type.")
	}
	node, code, err := find(ctx, key)
	if code != 0 {
		msg := kerr.ErrorForCode(code).Error()
		if err != nil {
			msg = err.Error()
		}
		c.ErrorCode, c.ErrorMessage = code, &msg
		return c
	}
	br := b.Metadata.Current().Brokers[node]
	if br == nil {
		return fail(kerr.CoordinatorNotAvailable, "The coordinator is not available.")
	}
	c.NodeID, c.Host, c.Port = int32(br.ID), br.Host, br.Port
	return c
}
