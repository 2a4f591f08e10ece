package group

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// described is a group as `group describe` shows it, and its --json form.
type described struct {
	Group        string      `json:"group"`
	Type         string      `json:"type"`
	State        string      `json:"state"`
	ProtocolType string      `json:"protocol_type"`
	Protocol     string      `json:"protocol"`
	Coordinator  int32       `json:"coordinator"`
	Members      []member    `json:"members"`
	Partitions   []partition `json:"partitions"`
	TotalLag     int64       `json:"total_lag"`
}

// member is one group member and the partitions it owns.
type member struct {
	MemberID   string          `json:"member_id"`
	InstanceID string          `json:"instance_id,omitempty"`
	ClientID   string          `json:"client_id"`
	Host       string          `json:"host"`
	Assigned   kadm.TopicsList `json:"assigned"`
}

// partition is one row of the offsets table. CurrentOffset and Lag are
// nil when the group has committed nothing for the partition, LogEndOffset
// when it could not be listed (Error says why).
type partition struct {
	Topic         string `json:"topic"`
	Partition     int32  `json:"partition"`
	CurrentOffset *int64 `json:"current_offset"`
	LogEndOffset  *int64 `json:"log_end_offset"`
	Lag           *int64 `json:"lag"`
	MemberID      string `json:"member_id,omitempty"`
	ClientID      string `json:"client_id,omitempty"`
	Host          string `json:"host,omitempty"`
	Error         string `json:"error,omitempty"`
}

// describeMembers describes group's state and members: as a classic
// group (DescribeGroups), else as a KIP-848 consumer group
// (ConsumerGroupDescribe). A group that exists in neither form is
// GROUP_ID_NOT_FOUND.
func describeMembers(ctx context.Context, adm *kadm.Client, group string) (*described, error) {
	dgs, err := adm.DescribeGroups(ctx, group)
	if err != nil {
		return nil, fmt.Errorf("describe group %q: %w", group, err)
	}
	dg, ok := dgs[group]
	if !ok {
		return nil, fmt.Errorf("describe group %q: the response did not include it", group)
	}
	if dg.Err == nil && dg.State != "Dead" {
		return fromClassic(dg), nil
	}
	if cg, ok := describeConsumerGroup(ctx, adm, group); ok {
		return cg, nil
	}
	if dg.Err == nil || errors.Is(dg.Err, kerr.GroupIDNotFound) {
		return nil, groupError(group, kerr.GroupIDNotFound, "")
	}
	return nil, groupError(group, dg.Err, dg.ErrMessage)
}

func fromClassic(dg kadm.DescribedGroup) *described {
	d := &described{Group: dg.Group, Type: "classic", State: dg.State, ProtocolType: dg.ProtocolType,
		Protocol: dg.Protocol, Coordinator: dg.Coordinator.NodeID}
	for _, m := range dg.Members {
		dm := member{MemberID: m.MemberID, ClientID: m.ClientID, Host: m.ClientHost}
		if m.InstanceID != nil {
			dm.InstanceID = *m.InstanceID
		}
		if a, ok := m.Assigned.AsConsumer(); ok {
			s := kadm.TopicsSet{}
			for _, t := range a.Topics {
				s.Add(t.Topic, t.Partitions...)
			}
			dm.Assigned = s.Sorted()
		}
		d.Members = append(d.Members, dm)
	}
	return d
}

// describeConsumerGroup describes a KIP-848 group; ok is false when the
// cluster does not know one by that name (or cannot describe such groups).
func describeConsumerGroup(ctx context.Context, adm *kadm.Client, group string) (*described, bool) {
	cgs, err := adm.DescribeConsumerGroups(ctx, group)
	if err != nil {
		return nil, false
	}
	cg, ok := cgs[group]
	if !ok || cg.Err != nil || cg.State == "Dead" {
		return nil, false
	}
	d := &described{Group: cg.Group, Type: "consumer", State: cg.State, ProtocolType: "consumer",
		Protocol: cg.AssignorName, Coordinator: cg.Coordinator.NodeID}
	for _, m := range cg.Members {
		dm := member{MemberID: m.MemberID, ClientID: m.ClientID, Host: m.ClientHost, Assigned: m.Assignment.Sorted()}
		if m.InstanceID != nil {
			dm.InstanceID = *m.InstanceID
		}
		d.Members = append(d.Members, dm)
	}
	return d, true
}

// fillOffsets adds a row per partition the group owns or has committed
// for: committed offset, log end offset, lag and owner, like
// kafka-consumer-groups.sh --describe.
func (d *described) fillOffsets(ctx context.Context, adm *kadm.Client) error {
	committed, err := adm.FetchOffsets(ctx, d.Group)
	if err != nil {
		return groupError(d.Group, err, "")
	}
	owners := map[string]map[int32]*member{}
	parts := kadm.TopicsSet{}
	for i := range d.Members {
		m := &d.Members[i]
		for _, tp := range m.Assigned {
			for _, p := range tp.Partitions {
				if owners[tp.Topic] == nil {
					owners[tp.Topic] = map[int32]*member{}
				}
				owners[tp.Topic][p] = m
				parts.Add(tp.Topic, p)
			}
		}
	}
	committed.Each(func(o kadm.OffsetResponse) { parts.Add(o.Topic, o.Partition) })
	var ends kadm.ListedOffsets
	if topics := parts.Topics(); len(topics) > 0 {
		ends, err = adm.ListEndOffsets(ctx, topics...)
		if _, partial := errors.AsType[*kadm.ShardErrors](err); err != nil && !partial {
			return fmt.Errorf("list end offsets of %s: %w", strings.Join(topics, ", "), err)
		}
	}
	for _, tps := range parts.Sorted() {
		for _, p := range tps.Partitions {
			row := d.row(tps.Topic, p, committed, ends)
			if m := owners[tps.Topic][p]; m != nil {
				row.MemberID, row.ClientID, row.Host = m.MemberID, m.ClientID, m.Host
			}
			d.Partitions = append(d.Partitions, row)
		}
	}
	return nil
}

func (d *described) row(topic string, p int32, committed kadm.OffsetResponses, ends kadm.ListedOffsets) partition {
	row := partition{Topic: topic, Partition: p}
	var errs []error
	if c, ok := committed.Lookup(topic, p); ok {
		if c.Err != nil {
			errs = append(errs, c.Err)
		} else if c.At >= 0 {
			row.CurrentOffset = &c.At
		}
	}
	end, ok := ends.Lookup(topic, p)
	if !ok {
		end, ok = ends.Lookup(topic, -1) // kadm's marker of a topic that does not exist
	}
	switch {
	case !ok:
		errs = append(errs, kerr.UnknownTopicOrPartition)
	case end.Err != nil:
		errs = append(errs, end.Err)
	default:
		row.LogEndOffset = &end.Offset
	}
	if row.CurrentOffset != nil && row.LogEndOffset != nil {
		lag := max(0, *row.LogEndOffset-*row.CurrentOffset)
		row.Lag = &lag
		d.TotalLag += lag
	}
	if len(errs) > 0 {
		row.Error = errorName(errs[0])
	}
	return row
}

// errorName is the Kafka name of err (e.g. UNKNOWN_TOPIC_OR_PARTITION),
// or its text.
func errorName(err error) string {
	if ke, ok := errors.AsType[*kerr.Error](err); ok {
		return ke.Message
	}
	return err.Error()
}

// sortMembers orders members by member id, for stable output.
func (d *described) sortMembers() {
	slices.SortFunc(d.Members, func(a, b member) int { return strings.Compare(a.MemberID, b.MemberID) })
}
