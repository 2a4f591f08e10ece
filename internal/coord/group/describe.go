package group

import (
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// groupType is what ListGroups v5 and DescribeGroups call a classic group.
const groupType = "classic"

// authorizedOpsNotRequested is Kafka's INT32_MIN for "not asked".
const authorizedOpsNotRequested = -2147483648

// groupAuthorizedOps is READ, DELETE and DESCRIBE (bits 3, 6, 8): no ACLs
// are enforced yet, so a client may do all that a group allows.
const groupAuthorizedOps = 1<<3 | 1<<6 | 1<<8

// describe fills one group of a DescribeGroups. Member metadata and
// assignments are shown only for a Stable group, as Kafka does. A group
// that does not exist is Dead (v6+: with GROUP_ID_NOT_FOUND, KIP-1043).
func (s *shard) describe(id string, version int16, withOps bool) kmsg.DescribeGroupsResponseGroup {
	d := kmsg.NewDescribeGroupsResponseGroup()
	d.Group = id
	d.AuthorizedOperations = authorizedOpsNotRequested
	g := s.groups[id]
	if g != nil && g.consumer != nil {
		return describeAsClassic(id, version) // consumer_describe.go
	}
	if g == nil || g.state == Dead {
		d.State = Dead.String()
		if version >= 6 {
			d.ErrorCode = codeGroupIDNotFound
			msg := "Group " + id + " not found."
			d.ErrorMessage = &msg
		}
		return d
	}
	if withOps {
		d.AuthorizedOperations = groupAuthorizedOps
	}
	d.State, d.ProtocolType = g.state.String(), g.protocolType
	stable := g.state == Stable
	if stable {
		d.Protocol = g.protocol
	}
	for _, mid := range g.order {
		m := g.members[mid]
		dm := kmsg.NewDescribeGroupsResponseGroupMember()
		dm.MemberID, dm.InstanceID, dm.ClientID, dm.ClientHost = m.id, m.instanceID, m.clientID, m.clientHost
		dm.ProtocolMetadata, dm.MemberAssignment = []byte{}, []byte{}
		if stable {
			if md := m.metadataFor(g.protocol); md != nil {
				dm.ProtocolMetadata = md
			}
			if m.assignment != nil {
				dm.MemberAssignment = m.assignment
			}
		}
		d.Members = append(d.Members, dm)
	}
	return d
}

// list appends the shard's groups that pass the ListGroups filters
// (v4 states, v5 types; empty filters pass everything); stateNames are
// the states asked for, by name, as consumer groups have states of their
// own.
func (s *shard) list(states []State, stateNames, types []string, out []kmsg.ListGroupsResponseGroup) []kmsg.ListGroupsResponseGroup {
	classic := len(types) == 0 || slices.ContainsFunc(types, func(t string) bool { return strings.EqualFold(t, groupType) })
	for _, g := range s.groups {
		if g.consumer != nil {
			out = listConsumer(g, stateNames, types, out) // consumer_describe.go
			continue
		}
		if !classic || g.state == Dead || (len(states) > 0 && !slices.Contains(states, g.state)) {
			continue
		}
		l := kmsg.NewListGroupsResponseGroup()
		l.Group, l.ProtocolType, l.GroupState, l.GroupType = g.id, g.protocolType, g.state.String(), groupType
		out = append(out, l)
	}
	return out
}
