package group

import (
	"context"
	"net"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/coord/runtime"
)

// Client identifies who sent a request: client.id from the request
// header and the remote address of the connection.
type Client struct {
	ID     string
	Remote string // host:port
}

func (cl Client) internal() client {
	host := cl.Remote
	if h, _, err := net.SplitHostPort(cl.Remote); err == nil {
		host = h
	}
	return client{id: cl.ID, host: "/" + host}
}

// The API methods run the request on its group's shard at once, in the
// caller's order (a connection's requests take effect in the order it
// sent them, as in Kafka), and return a wait that blocks until the answer
// is ready: its records durable, and for JoinGroup and SyncGroup the
// rebalance step it waits for done. Each wait must be called once.

// JoinGroup handles a JoinGroup; its answer may wait up to the rebalance
// timeout, or until ctx (the connection) ends.
func (c *Coordinator) JoinGroup(ctx context.Context, req *kmsg.JoinGroupRequest, cl Client) func() *kmsg.JoinGroupResponse {
	fail := func(code int16) func() *kmsg.JoinGroupResponse {
		return func() *kmsg.JoinGroupResponse { return joinErrorResponse(req.Version, req.MemberID, code) }
	}
	switch {
	case c == nil:
		return fail(codeCoordinatorNotAvailable)
	case req.Group == "":
		return fail(codeInvalidGroupID)
	case ms(req.SessionTimeoutMillis) < c.opts.MinSessionTimeout || ms(req.SessionTimeoutMillis) > c.opts.MaxSessionTimeout:
		return fail(codeInvalidSessionTimeout)
	case !joinFitsRecords(req):
		return fail(codeInvalidRequest)
	}
	ch := make(chan *kmsg.JoinGroupResponse, 1)
	respond := func(r *kmsg.JoinGroupResponse) {
		r.Version = req.Version
		select {
		case ch <- r:
		default: // answered already
		}
	}
	wait := c.submit(req.Group, func(s *shard, w *runtime.Writer) { s.join(w, req, cl.internal(), respond) })
	return func() *kmsg.JoinGroupResponse {
		if code := wait(); code != 0 {
			return joinErrorResponse(req.Version, req.MemberID, code)
		}
		select {
		case r := <-ch:
			return r
		case <-ctxDone(ctx):
			return joinErrorResponse(req.Version, req.MemberID, codeRebalanceInProgress)
		}
	}
}

// SyncGroup handles a SyncGroup; a member's answer waits for the leader's
// assignment, or until ctx ends.
func (c *Coordinator) SyncGroup(ctx context.Context, req *kmsg.SyncGroupRequest) func() *kmsg.SyncGroupResponse {
	errResp := func(code int16) *kmsg.SyncGroupResponse {
		r := syncErrorResponse(code)
		r.Version = req.Version
		return r
	}
	if req.Group == "" {
		return func() *kmsg.SyncGroupResponse { return errResp(codeInvalidGroupID) }
	}
	ch := make(chan *kmsg.SyncGroupResponse, 1)
	respond := func(r *kmsg.SyncGroupResponse) {
		r.Version = req.Version
		select {
		case ch <- r:
		default:
		}
	}
	wait := c.submit(req.Group, func(s *shard, w *runtime.Writer) { s.sync(w, req, respond) })
	return func() *kmsg.SyncGroupResponse {
		if code := wait(); code != 0 {
			return errResp(code)
		}
		select {
		case r := <-ch:
			return r
		case <-ctxDone(ctx):
			return errResp(codeRebalanceInProgress)
		}
	}
}

// Heartbeat handles a Heartbeat. While the group's shard loads it answers
// without error, as Kafka does: the member keeps its session.
func (c *Coordinator) Heartbeat(req *kmsg.HeartbeatRequest) func() *kmsg.HeartbeatResponse {
	r := req.ResponseKind().(*kmsg.HeartbeatResponse)
	wait := func() int16 { return codeInvalidGroupID }
	if req.Group != "" {
		wait = c.submit(req.Group, func(s *shard, w *runtime.Writer) { r.ErrorCode = s.heartbeat(w, req) })
	}
	return func() *kmsg.HeartbeatResponse {
		switch code := wait(); code {
		case 0, codeLoadInProgress:
		default:
			r.ErrorCode = code
		}
		return r
	}
}

// LeaveGroup handles a LeaveGroup.
func (c *Coordinator) LeaveGroup(req *kmsg.LeaveGroupRequest) func() *kmsg.LeaveGroupResponse {
	var r *kmsg.LeaveGroupResponse
	wait := func() int16 { return codeInvalidGroupID }
	if req.Group != "" {
		wait = c.submit(req.Group, func(s *shard, w *runtime.Writer) { r = s.leave(w, req) })
	}
	return func() *kmsg.LeaveGroupResponse {
		if code := wait(); code != 0 {
			r = kmsg.NewPtrLeaveGroupResponse()
			r.ErrorCode = code
		}
		r.Version = req.Version
		return r
	}
}

// ctxDone is ctx.Done, or never for a nil ctx.
func ctxDone(ctx context.Context) <-chan struct{} {
	if ctx == nil {
		return nil
	}
	return ctx.Done()
}

// joinFitsRecords reports whether what a JoinGroup stores in the group's
// metadata record (its member and instance ids, protocol type and
// protocol names) fits that record's int16 string lengths.
func joinFitsRecords(req *kmsg.JoinGroupRequest) bool {
	if len(req.MemberID) > maxRecordString || len(req.ProtocolType) > maxRecordString ||
		req.InstanceID != nil && len(*req.InstanceID) > maxRecordString {
		return false
	}
	for _, p := range req.Protocols {
		if len(p.Name) > maxRecordString {
			return false
		}
	}
	return true
}
