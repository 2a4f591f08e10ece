package group

import (
	"maps"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/metadata"
	"github.com/sluice-io/sluice/internal/model"
)

// consumerGroupType is what ListGroups v5 calls a KIP-848 group.
const consumerGroupType = "consumer"

// memberTypeConsumer is ConsumerGroupDescribe v1's member type of a
// member speaking the consumer protocol (0 would be a classic member).
const memberTypeConsumer = 1

// consumerDescribe fills one group of a ConsumerGroupDescribe (Kafka's
// ConsumerGroup.asDescribedGroup): epochs, assignor, and every member
// with its subscription, current and target assignment. A group that is
// missing or classic is GROUP_ID_NOT_FOUND.
func (s *shard) consumerDescribe(id string, withOps bool, im *metadata.Image) kmsg.ConsumerGroupDescribeResponseGroup {
	d := kmsg.NewConsumerGroupDescribeResponseGroup()
	d.Group = id
	g := s.groups[id]
	switch {
	case g == nil || (g.consumer == nil && g.state == Dead):
		d.ErrorCode, d.ErrorMessage = codeGroupIDNotFound, kmsg.StringPtr("Group "+id+" not found.")
		return d
	case g.consumer == nil:
		d.ErrorCode, d.ErrorMessage = codeGroupIDNotFound, kmsg.StringPtr("Group "+id+" is not a consumer group.")
		return d
	}
	cg := g.consumer
	if withOps {
		d.AuthorizedOperations = groupAuthorizedOps
	}
	d.State, d.Epoch, d.AssignmentEpoch = cg.state(), cg.epoch, cg.assignmentEpoch
	d.AssignorName = cg.preferredAssignor(s.opts.ConsumerAssignors[0])
	for _, mid := range slices.Sorted(maps.Keys(cg.members)) {
		m := cg.members[mid]
		dm := kmsg.NewConsumerGroupDescribeResponseGroupMember()
		dm.MemberID, dm.InstanceID, dm.RackID, dm.MemberEpoch = m.id, m.instanceID, m.rackID, m.epoch
		dm.ClientID, dm.ClientHost, dm.MemberType = m.clientID, m.clientHost, memberTypeConsumer
		dm.SubscribedTopics = append([]string{}, m.topics...)
		if m.regex != "" {
			dm.SubscribedTopicRegex = kmsg.StringPtr(m.regex)
		}
		dm.Assignment = describeAssignment(m.assigned, im)
		dm.TargetAssignment = describeAssignment(cg.target[m.id], im)
		d.Members = append(d.Members, dm)
	}
	return d
}

// describeAssignment names an assignment's topics; topics deleted since
// are left out.
func describeAssignment(p parts, im *metadata.Image) kmsg.Assignment {
	a := kmsg.NewAssignment()
	a.TopicPartitions = []kmsg.AssignmentTopicPartition{}
	for _, id := range p.sortedTopics() {
		t := im.TopicIDs[model.TopicID(id)]
		if t == nil {
			continue
		}
		tp := kmsg.NewAssignmentTopicPartition()
		tp.TopicID, tp.Topic, tp.Partitions = id, t.Name, partitionsOf(p, id)
		a.TopicPartitions = append(a.TopicPartitions, tp)
	}
	return a
}

// describeAsClassic is DescribeGroups' answer for a consumer group, as
// Kafka's: it describes classic groups only, so the group is Dead, and
// from v6 GROUP_ID_NOT_FOUND (clients then use ConsumerGroupDescribe).
func describeAsClassic(id string, version int16) kmsg.DescribeGroupsResponseGroup {
	d := kmsg.NewDescribeGroupsResponseGroup()
	d.Group, d.State, d.AuthorizedOperations = id, Dead.String(), authorizedOpsNotRequested
	if version >= 6 {
		d.ErrorCode, d.ErrorMessage = codeGroupIDNotFound, kmsg.StringPtr("Group "+id+" is not a classic group.")
	}
	return d
}

// listConsumer appends a consumer group to a ListGroups answer when it
// passes the filters (v4 states, v5 types; empty filters pass all).
func listConsumer(g *group, states, types []string, out []kmsg.ListGroupsResponseGroup) []kmsg.ListGroupsResponseGroup {
	state := g.consumer.state()
	match := func(want string) func(string) bool {
		return func(s string) bool { return strings.EqualFold(s, want) }
	}
	if len(types) > 0 && !slices.ContainsFunc(types, match(consumerGroupType)) {
		return out
	}
	if len(states) > 0 && !slices.ContainsFunc(states, match(state)) {
		return out
	}
	l := kmsg.NewListGroupsResponseGroup()
	l.Group, l.ProtocolType, l.GroupState, l.GroupType = g.id, consumerProtocolType, state, consumerGroupType
	return append(out, l)
}
