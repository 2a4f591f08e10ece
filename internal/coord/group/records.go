package group

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Record versions, as Kafka writes them (docs/format/consumer-offsets.md).
// The key's version says what the record is: 0 and 1 an offset commit,
// 2 group metadata; higher versions belong to other group types (KIP-848
// consumer groups, share groups) and are skipped.
const (
	offsetKeyVersion     = 1
	groupKeyVersion      = 2
	offsetValueVersion   = 3 // with leader epoch (KIP-320)
	offsetValueExpireVer = 1 // with an expire timestamp (v1-v4 commits that ask for one)
	groupValueVersion    = 3 // with group.instance.id (KIP-345)
)

func offsetKey(groupID, topic string, partition int32) []byte {
	k := kmsg.OffsetCommitKey{Version: offsetKeyVersion, Group: groupID, Topic: topic, Partition: partition}
	return k.AppendTo(nil)
}

func offsetValue(o *offset) []byte {
	v := kmsg.NewOffsetCommitValue()
	v.Version = offsetValueVersion
	if o.expireMs >= 0 {
		v.Version = offsetValueExpireVer
		v.ExpireTimestamp = o.expireMs
	}
	v.Offset, v.LeaderEpoch, v.Metadata, v.CommitTimestamp = o.offset, o.leaderEpoch, o.metadata, o.commitMs
	return v.AppendTo(nil)
}

func groupKey(groupID string) []byte {
	k := kmsg.GroupMetadataKey{Version: groupKeyVersion, Group: groupID}
	return k.AppendTo(nil)
}

// groupValue snapshots g: generation, protocol, leader and every member
// with its subscription (metadata of the selected protocol) and
// assignment.
func groupValue(g *group) []byte {
	v := kmsg.NewGroupMetadataValue()
	v.Version = groupValueVersion
	v.ProtocolType, v.Generation, v.CurrentStateTimestamp = g.protocolType, g.generation, g.stateTimestamp
	if g.protocol != "" {
		v.Protocol = &g.protocol
	}
	if g.leader != "" {
		v.Leader = &g.leader
	}
	for _, id := range g.order {
		m := g.members[id]
		vm := kmsg.NewGroupMetadataValueMember()
		vm.MemberID, vm.InstanceID, vm.ClientID, vm.ClientHost = m.id, m.instanceID, m.clientID, m.clientHost
		vm.RebalanceTimeoutMillis, vm.SessionTimeoutMillis = m.rebalanceTimeoutMs, m.sessionTimeoutMs
		vm.Subscription = m.metadataFor(g.protocol)
		if vm.Subscription == nil {
			vm.Subscription = []byte{}
		}
		vm.Assignment = m.assignment
		if vm.Assignment == nil {
			vm.Assignment = []byte{}
		}
		v.Members = append(v.Members, vm)
	}
	return v.AppendTo(nil)
}

// emptyGroupValue is the snapshot of a group that just came to be: its
// protocol type and generation, no members.
func emptyGroupValue(g *group) []byte {
	v := kmsg.NewGroupMetadataValue()
	v.Version = groupValueVersion
	v.ProtocolType, v.Generation, v.CurrentStateTimestamp = g.protocolType, g.generation, g.stateTimestamp
	return v.AppendTo(nil)
}

// maxRecordString is the longest string Kafka's record formats can hold
// where they give it an int16 length: every key, and the classic group
// metadata value. A request carrying a longer group id, member id,
// instance id or protocol is refused before it changes anything (its
// record could not be written: encoded, it would not decode; Kafka's
// serializer throws).
const maxRecordString = math.MaxInt16

// keyVersion reads the version that starts every key.
func keyVersion(key []byte) (int16, error) {
	if len(key) < 2 {
		return 0, fmt.Errorf("record key of %d bytes", len(key))
	}
	return int16(binary.BigEndian.Uint16(key)), nil
}

// decodeOffset reads an OffsetCommitValue.
func decodeOffset(value []byte) (*offset, error) {
	var v kmsg.OffsetCommitValue
	if err := v.ReadFrom(value); err != nil {
		return nil, fmt.Errorf("offset commit value: %w", err)
	}
	o := &offset{offset: v.Offset, leaderEpoch: -1, metadata: v.Metadata, commitMs: v.CommitTimestamp, expireMs: -1}
	if v.Version >= 3 {
		o.leaderEpoch = v.LeaderEpoch
	}
	if v.Version == 1 && v.ExpireTimestamp >= 0 {
		o.expireMs = v.ExpireTimestamp // any negative means none, as -1 (Kafka's default) does
	}
	return o, nil
}
