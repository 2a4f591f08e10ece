package group

import (
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/coord/runtime"
	"github.com/sluice-io/sluice/internal/metadata"
)

// ConsumerGroupHeartbeat handles a ConsumerGroupHeartbeat (KIP-848): the
// request is checked, then run on its group's shard now, in the caller's
// order; the wait returns the answer once its records are durable.
func (c *Coordinator) ConsumerGroupHeartbeat(req *kmsg.ConsumerGroupHeartbeatRequest, cl Client) func() *kmsg.ConsumerGroupHeartbeatResponse {
	fail := func(e *cgError) func() *kmsg.ConsumerGroupHeartbeatResponse {
		return func() *kmsg.ConsumerGroupHeartbeatResponse {
			r := heartbeatError(e)
			r.Version = req.Version
			return r
		}
	}
	switch {
	case c == nil:
		return fail(&cgError{code: codeCoordinatorNotAvailable})
	case c.opts.DisableConsumerProtocol || c.image().FeatureLevel(metadata.GroupVersion) < 1:
		// Kafka serves the protocol only with "consumer" in
		// group.coordinator.rebalance.protocols and group.version >= 1.
		return fail(cgErrorf(codeUnsupportedVersion, "The new consumer group protocol is not enabled."))
	}
	if e := validateConsumerHeartbeat(req, c.opts.ConsumerAssignors); e != nil {
		return fail(e)
	}
	var r *kmsg.ConsumerGroupHeartbeatResponse
	wait := c.submit(req.Group, func(s *shard, w *runtime.Writer) { r = s.consumerHeartbeat(w, req, cl.internal()) })
	return func() *kmsg.ConsumerGroupHeartbeatResponse {
		if code := wait(); code != 0 {
			r = heartbeatError(&cgError{code: code})
		}
		r.Version = req.Version
		return r
	}
}

// validateConsumerHeartbeat is Kafka's
// throwIfConsumerGroupHeartbeatRequestIsInvalid: the fields a request of
// its epoch must carry, a regex that compiles, a known assignor.
func validateConsumerHeartbeat(req *kmsg.ConsumerGroupHeartbeatRequest, assignorNames []string) *cgError {
	invalid := func(msg string) *cgError { return &cgError{code: codeInvalidRequest, msg: msg} }
	switch {
	case req.Group == "":
		return invalid("GroupId can't be empty.")
	case req.InstanceID != nil && *req.InstanceID == "":
		return invalid("InstanceId can't be empty.")
	case req.RackID != nil && *req.RackID == "":
		return invalid("RackId can't be empty.")
	case req.MemberID == "" && (req.Version >= 1 || req.MemberEpoch != joinEpoch):
		return invalid("MemberId can't be empty.")
	case len(req.Group) > maxRecordString:
		return invalid("GroupId is too long.") // keys hold it with an int16 length
	case len(req.MemberID) > maxRecordString:
		return invalid("MemberId is too long.")
	}
	switch e := req.MemberEpoch; {
	case e > 0 || e == leaveEpoch:
	case e == joinEpoch:
		switch {
		case req.RebalanceTimeoutMillis == -1:
			return invalid("RebalanceTimeoutMs must be provided in first request.")
		case req.Topics == nil || len(req.Topics) > 0:
			return invalid("TopicPartitions must be empty when (re-)joining.")
		case req.SubscribedTopicNames == nil && req.SubscribedTopicRegex == nil:
			return invalid("Either SubscribedTopicNames or SubscribedTopicRegex must be non-null when (re-)joining.")
		}
	case e == staticLeaveEpoch:
		if req.InstanceID == nil {
			return invalid("InstanceId can't be null.")
		}
	default:
		return invalid("MemberEpoch is invalid.")
	}
	if req.SubscribedTopicRegex != nil {
		if _, err := compileTopicRegex(*req.SubscribedTopicRegex); err != nil {
			return cgErrorf(codeInvalidRegularExpression, "SubscribedTopicRegex `%s` is not a valid regular expression: %v.", *req.SubscribedTopicRegex, err)
		}
	}
	if req.ServerAssignor != nil && !slices.Contains(assignorNames, *req.ServerAssignor) {
		return cgErrorf(codeUnsupportedAssignor, "ServerAssignor %s is not supported. Supported assignors: %s.", *req.ServerAssignor, strings.Join(assignorNames, ", "))
	}
	return nil
}

// ConsumerGroupDescribe handles a ConsumerGroupDescribe (KIP-848); each
// group is read on its own shard.
func (c *Coordinator) ConsumerGroupDescribe(req *kmsg.ConsumerGroupDescribeRequest) func() *kmsg.ConsumerGroupDescribeResponse {
	r := req.ResponseKind().(*kmsg.ConsumerGroupDescribeResponse)
	r.Groups = make([]kmsg.ConsumerGroupDescribeResponseGroup, len(req.Groups))
	waits := make([]func() int16, len(req.Groups))
	im := c.image()
	for i, id := range req.Groups {
		d := &r.Groups[i]
		*d = kmsg.NewConsumerGroupDescribeResponseGroup()
		d.Group = id
		if id == "" {
			d.ErrorCode = codeInvalidGroupID
			waits[i] = func() int16 { return 0 }
			continue
		}
		waits[i] = c.submit(id, func(s *shard, _ *runtime.Writer) {
			*d = s.consumerDescribe(id, req.IncludeAuthorizedOperations, im)
		})
	}
	return func() *kmsg.ConsumerGroupDescribeResponse {
		for i, wait := range waits {
			if code := wait(); code != 0 {
				d := kmsg.NewConsumerGroupDescribeResponseGroup()
				d.Group, d.ErrorCode = req.Groups[i], code
				r.Groups[i] = d
			}
		}
		return r
	}
}
