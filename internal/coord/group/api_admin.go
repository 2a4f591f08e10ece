package group

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/coord/runtime"
)

// DescribeGroups handles a DescribeGroups; each group is read on its own
// shard.
func (c *Coordinator) DescribeGroups(req *kmsg.DescribeGroupsRequest) func() *kmsg.DescribeGroupsResponse {
	r := req.ResponseKind().(*kmsg.DescribeGroupsResponse)
	r.Groups = make([]kmsg.DescribeGroupsResponseGroup, len(req.Groups))
	waits := make([]func() int16, len(req.Groups))
	for i, id := range req.Groups {
		d := &r.Groups[i]
		waits[i] = c.submit(id, func(s *shard, _ *runtime.Writer) {
			*d = s.describe(id, req.Version, req.IncludeAuthorizedOperations)
		})
	}
	return func() *kmsg.DescribeGroupsResponse {
		for i, wait := range waits {
			if code := wait(); code != 0 {
				d := kmsg.NewDescribeGroupsResponseGroup()
				d.Group, d.ErrorCode, d.AuthorizedOperations = req.Groups[i], code, authorizedOpsNotRequested
				r.Groups[i] = d
			}
		}
		return r
	}
}

// ListGroups handles a ListGroups with the groups of every shard this
// broker leads; while one is loading the answer is
// COORDINATOR_LOAD_IN_PROGRESS, as Kafka's.
func (c *Coordinator) ListGroups(req *kmsg.ListGroupsRequest) func() *kmsg.ListGroupsResponse {
	r := req.ResponseKind().(*kmsg.ListGroupsResponse)
	done := func() *kmsg.ListGroupsResponse { return r }
	if c == nil {
		r.ErrorCode = codeCoordinatorNotAvailable
		return done
	}
	var states []State
	for _, name := range req.StatesFilter {
		st, ok := parseState(name)
		if !ok {
			st = -1 // matches no group
		}
		states = append(states, st)
	}
	slots, loading := c.loaded()
	if loading {
		r.ErrorCode = codeLoadInProgress
		return done
	}
	lists := make([][]kmsg.ListGroupsResponseGroup, len(slots))
	waits := make([]func() error, len(slots))
	for i, sl := range slots {
		waits[i] = sl.Submit(func(s *shard, _ *runtime.Writer) { lists[i] = s.list(states, req.StatesFilter, req.TypesFilter, nil) })
	}
	return func() *kmsg.ListGroupsResponse {
		for i, wait := range waits {
			if err := wait(); err != nil && r.ErrorCode == 0 {
				r.ErrorCode = runtimeCode(err)
			}
			r.Groups = append(r.Groups, lists[i]...)
		}
		if r.ErrorCode != 0 {
			r.Groups = nil
		}
		return r
	}
}

// DeleteGroups handles a DeleteGroups: each group without members loses
// its offsets and its metadata.
func (c *Coordinator) DeleteGroups(req *kmsg.DeleteGroupsRequest) func() *kmsg.DeleteGroupsResponse {
	r := req.ResponseKind().(*kmsg.DeleteGroupsResponse)
	r.Groups = make([]kmsg.DeleteGroupsResponseGroup, len(req.Groups))
	waits := make([]func() int16, len(req.Groups))
	for i, id := range req.Groups {
		g := &r.Groups[i]
		*g = kmsg.NewDeleteGroupsResponseGroup()
		g.Group = id
		waits[i] = c.submit(id, func(s *shard, w *runtime.Writer) { g.ErrorCode = s.deleteGroup(w, id) })
	}
	return func() *kmsg.DeleteGroupsResponse {
		for i, wait := range waits {
			if code := wait(); code != 0 {
				r.Groups[i].ErrorCode = code
			}
		}
		return r
	}
}
