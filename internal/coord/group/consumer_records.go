package group

import (
	"bytes"
	"fmt"
	"maps"
	"slices"

	"github.com/sluice-io/sluice/internal/model"
)

// Key versions of the consumer group records, as Kafka 4.0 writes them
// (the key's version names the record type; docs in consumer_group.go).
// Keys: int16 version, string group (int16 length), and for versions 5,
// 7 and 8 string member. Values: int16 version 0, then flexible fields
// (compact strings/arrays, uvarint length+1; a tag section closing each
// struct):
//
//	3 ConsumerGroupMetadata            int32 epoch; tag 0: int64 metadata hash (KIP-1101)
//	4 ConsumerGroupPartitionMetadata   [uuid topic id, string name, int32 partitions, [] racks (empty)]
//	5 ConsumerGroupMemberMetadata      ?string instance, ?string rack, string client id, string client host,
//	                                   []string topics, ?string regex, int32 rebalance timeout, ?string assignor
//	6 ConsumerGroupTargetAssignmentMetadata  int32 assignment epoch
//	7 ConsumerGroupTargetAssignmentMember    [uuid topic id, []int32 partitions]
//	8 ConsumerGroupCurrentMemberAssignment   int32 epoch, int32 previous epoch, int8 state,
//	                                   assigned and pending revocation: [uuid topic id, []int32 partitions;
//	                                   tag 0: []int32 assignment epochs (KIP-1251)]
//
// A null value is a tombstone.
// Version 16 (ConsumerGroupRegularExpression, Kafka's persisted regex
// resolutions) is not written: regexes are resolved again from the
// metadata, and such records from Kafka are skipped.
const (
	cgMetadataKey          = 3 // ConsumerGroupMetadata: the group epoch
	cgPartitionMetadataKey = 4 // ConsumerGroupPartitionMetadata: subscribed topics
	cgMemberKey            = 5 // ConsumerGroupMemberMetadata: a member's subscription
	cgTargetMetadataKey    = 6 // ConsumerGroupTargetAssignmentMetadata: its epoch
	cgTargetMemberKey      = 7 // ConsumerGroupTargetAssignmentMember: a member's target
	cgCurrentKey           = 8 // ConsumerGroupCurrentMemberAssignment: a member's state
)

// parts is an assignment: topic id -> partition -> the epoch at which the
// partition was assigned to the member (KIP-1251; 0 in a target).
type parts map[model.TopicID]map[int32]int32

// sortedTopics returns the topic ids in byte order.
func (p parts) sortedTopics() []model.TopicID {
	ids := slices.Collect(maps.Keys(p))
	slices.SortFunc(ids, compareTopicIDs)
	return ids
}

// compareTopicIDs orders topic ids by their bytes.
func compareTopicIDs(a, b model.TopicID) int { return bytes.Compare(a[:], b[:]) }

// cgKeyOf is a decoded consumer group record key.
type cgKeyOf struct {
	version int16
	group   string
	member  string // versions 5, 7, 8
}

func cgKey(version int16, group, member string) []byte {
	e := enc{b: make([]byte, 0, 6+len(group)+len(member))}
	e.int16(version)
	e.str(group)
	if version == cgMemberKey || version == cgTargetMemberKey || version == cgCurrentKey {
		e.str(member)
	}
	return e.b
}

func decodeCGKey(b []byte) (cgKeyOf, error) {
	d := dec{b: b}
	k := cgKeyOf{version: d.int16()}
	k.group = d.str()
	if k.version == cgMemberKey || k.version == cgTargetMemberKey || k.version == cgCurrentKey {
		k.member = d.str()
	}
	if d.err != nil {
		return k, fmt.Errorf("consumer group key v%d: %w", k.version, d.err)
	}
	return k, nil
}

// cgMetadata is ConsumerGroupMetadataValue v0 (+ MetadataHash, tag 0,
// KIP-1101).
type cgMetadata struct {
	epoch        int32
	metadataHash int64
}

func (v *cgMetadata) encode() []byte {
	e := enc{}
	e.int16(0)
	e.int32(v.epoch)
	if v.metadataHash == 0 {
		e.noTags()
		return e.b
	}
	e.uvarint(1)
	e.uvarint(0)
	e.uvarint(8)
	e.int64(v.metadataHash)
	return e.b
}

func (v *cgMetadata) decode(b []byte) error {
	d := dec{b: b}
	d.int16()
	v.epoch = d.int32()
	d.tags(func(tag int, b []byte) {
		if tag == 0 && len(b) == 8 {
			v.metadataHash = (&dec{b: b}).int64()
		}
	})
	return d.err
}

// topicMeta is one subscribed topic of ConsumerGroupPartitionMetadataValue
// v0 (its per-partition racks are written empty: racks are not used).
type topicMeta struct {
	id         model.TopicID
	name       string
	partitions int32
}

func encodePartitionMetadata(topics map[string]topicMeta) []byte {
	e := enc{}
	e.int16(0)
	e.alen(len(topics))
	for _, name := range slices.Sorted(maps.Keys(topics)) {
		t := topics[name]
		e.uuid(t.id)
		e.cstr(t.name)
		e.int32(t.partitions)
		e.alen(0) // PartitionMetadata
		e.noTags()
	}
	e.noTags()
	return e.b
}

func decodePartitionMetadata(b []byte) (map[string]topicMeta, error) {
	d := dec{b: b}
	d.int16()
	n := d.alen()
	out := make(map[string]topicMeta, max(n, 0))
	for range max(n, 0) {
		t := topicMeta{id: d.uuid(), name: d.cstr(), partitions: d.int32()}
		for range max(d.alen(), 0) {
			d.int32()
			d.strs()
			d.tags(nil)
		}
		d.tags(nil)
		out[t.name] = t
	}
	d.tags(nil)
	return out, d.err
}

// cgMemberValue is ConsumerGroupMemberMetadataValue v0.
type cgMemberValue struct {
	instanceID, rackID   *string
	clientID, clientHost string
	topics               []string
	regex                *string
	rebalanceTimeoutMs   int32
	assignor             *string
}

func (v *cgMemberValue) encode() []byte {
	e := enc{}
	e.int16(0)
	e.cnstr(v.instanceID)
	e.cnstr(v.rackID)
	e.cstr(v.clientID)
	e.cstr(v.clientHost)
	e.strs(v.topics)
	e.cnstr(v.regex)
	e.int32(v.rebalanceTimeoutMs)
	e.cnstr(v.assignor)
	e.noTags() // ClassicMemberMetadata (tag 0): no classic members here
	return e.b
}

func (v *cgMemberValue) decode(b []byte) error {
	d := dec{b: b}
	d.int16()
	v.instanceID, v.rackID = d.cnstr(), d.cnstr()
	v.clientID, v.clientHost = d.cstr(), d.cstr()
	v.topics = d.strs()
	v.regex = d.cnstr()
	v.rebalanceTimeoutMs = d.int32()
	v.assignor = d.cnstr()
	d.tags(nil)
	return d.err
}

// encodeEpoch is ConsumerGroupTargetAssignmentMetadataValue v0.
func encodeEpoch(epoch int32) []byte {
	e := enc{}
	e.int16(0)
	e.int32(epoch)
	e.noTags()
	return e.b
}

func decodeEpoch(b []byte) (int32, error) {
	d := dec{b: b}
	d.int16()
	v := d.int32()
	d.tags(nil)
	return v, d.err
}

// encodeTarget is ConsumerGroupTargetAssignmentMemberValue v0.
func encodeTarget(p parts) []byte {
	e := enc{}
	e.int16(0)
	encodeParts(&e, p, false)
	e.noTags()
	return e.b
}

func decodeTarget(b []byte) (parts, error) {
	d := dec{b: b}
	d.int16()
	p := decodeParts(&d, 0)
	d.tags(nil)
	return p, d.err
}

// encodeParts writes []TopicPartitions; withEpochs adds each
// partition's assignment epoch as the AssignmentEpochs tag (KIP-1251).
func encodeParts(e *enc, p parts, withEpochs bool) {
	e.alen(len(p))
	for _, id := range p.sortedTopics() {
		ps := slices.Sorted(maps.Keys(p[id]))
		e.uuid(id)
		e.int32s(ps)
		if !withEpochs {
			e.noTags()
			continue
		}
		epochs := enc{}
		epochs.alen(len(ps))
		for _, pt := range ps {
			epochs.int32(p[id][pt])
		}
		e.uvarint(1)
		e.uvarint(0)
		e.uvarint(len(epochs.b))
		e.b = append(e.b, epochs.b...)
	}
}

// decodeParts reads []TopicPartitions; partitions without a recorded
// assignment epoch get def (records of Kafka before 4.3).
func decodeParts(d *dec, def int32) parts {
	n := d.alen()
	p := make(parts, max(n, 0))
	for range max(n, 0) {
		id := model.TopicID(d.uuid())
		ps := d.int32s()
		var epochs []int32
		d.tags(func(tag int, b []byte) {
			if tag == 0 {
				epochs = (&dec{b: b}).int32s()
			}
		})
		m := make(map[int32]int32, len(ps))
		for i, pt := range ps {
			m[pt] = def
			if len(epochs) == len(ps) {
				m[pt] = epochs[i]
			}
		}
		p[id] = m
	}
	return p
}

// cgCurrentValue is ConsumerGroupCurrentMemberAssignmentValue v0.
type cgCurrentValue struct {
	epoch, prevEpoch int32
	state            memberState
	assigned         parts
	revoking         parts
}

func (v *cgCurrentValue) encode() []byte {
	e := enc{}
	e.int16(0)
	e.int32(v.epoch)
	e.int32(v.prevEpoch)
	e.int8(int8(v.state))
	encodeParts(&e, v.assigned, true)
	encodeParts(&e, v.revoking, true)
	e.noTags()
	return e.b
}

func (v *cgCurrentValue) decode(b []byte) error {
	d := dec{b: b}
	d.int16()
	v.epoch, v.prevEpoch = d.int32(), d.int32()
	v.state = memberState(d.int8())
	def := max(v.epoch, 0)
	v.assigned = decodeParts(&d, def)
	v.revoking = decodeParts(&d, def)
	d.tags(nil)
	return d.err
}
