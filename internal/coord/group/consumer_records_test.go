package group

import (
	"bytes"
	"encoding/hex"
	"testing"
)

// Byte layouts of Kafka's consumer group records, written out by hand
// from the message schemas.
func TestConsumerRecordLayouts(t *testing.T) {
	tid := topicID("t")
	cur := cgCurrentValue{epoch: 7, prevEpoch: 6, state: memberUnrevoked,
		assigned: parts{topicID("t"): {0: 7, 2: 5}}, revoking: parts{}}
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"metadata key", cgKey(cgMetadataKey, "g", ""), "0003" + "0001" + "67"},
		{"member key", cgKey(cgMemberKey, "g", "m1"), "0005" + "000167" + "00026d31"},
		{"metadata value", (&cgMetadata{epoch: 5}).encode(), "0000" + "00000005" + "00"},
		{"metadata value with hash", (&cgMetadata{epoch: 5, metadataHash: 1}).encode(),
			"0000" + "00000005" + "01" + "00" + "08" + "0000000000000001"},
		{"target epoch", encodeEpoch(3), "0000" + "00000003" + "00"},
		{"member value", (&cgMemberValue{clientID: "c", clientHost: "/h", topics: []string{"t"}, rebalanceTimeoutMs: 100}).encode(),
			"0000" + "00" + "00" + "0263" + "032f68" + "02" + "0274" + "00" + "00000064" + "00" + "00"},
		{"current value", cur.encode(),
			"0000" + "00000007" + "00000006" + "01" +
				"02" + hex.EncodeToString(tid[:]) + "03" + "00000000" + "00000002" +
				"01" + "00" + "09" + "03" + "00000007" + "00000005" +
				"01" + "00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := hex.EncodeToString(tt.got); got != tt.want {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestConsumerRecordsRoundTrip(t *testing.T) {
	k, err := decodeCGKey(cgKey(cgTargetMemberKey, "group", "member"))
	if err != nil || k.version != cgTargetMemberKey || k.group != "group" || k.member != "member" {
		t.Fatalf("key: %+v %v", k, err)
	}
	mv := cgMemberValue{instanceID: ptr("i"), rackID: ptr("r"), clientID: "c", clientHost: "h",
		topics: []string{"a", "b"}, regex: ptr("x.*"), rebalanceTimeoutMs: 9, assignor: ptr("range")}
	var mv2 cgMemberValue
	if err := mv2.decode(mv.encode()); err != nil || !bytes.Equal(mv2.encode(), mv.encode()) {
		t.Fatalf("member value: %+v %v", mv2, err)
	}
	sub := map[string]topicMeta{"a": {id: topicID("a"), name: "a", partitions: 3}}
	if got, err := decodePartitionMetadata(encodePartitionMetadata(sub)); err != nil || got["a"] != sub["a"] || len(got) != 1 {
		t.Fatalf("partition metadata: %v %v", got, err)
	}
	target := parts{topicID("a"): {1: 0, 4: 0}}
	if got, err := decodeTarget(encodeTarget(target)); err != nil || !sameEpochs(got, target) {
		t.Fatalf("target: %v %v", got, err)
	}
	cur := cgCurrentValue{epoch: 4, prevEpoch: 3, state: memberUnreleased,
		assigned: parts{topicID("a"): {0: 2, 1: 4}}, revoking: parts{topicID("b"): {3: 1}}}
	var cur2 cgCurrentValue
	if err := cur2.decode(cur.encode()); err != nil || !sameEpochs(cur2.assigned, cur.assigned) ||
		!sameEpochs(cur2.revoking, cur.revoking) || cur2.state != cur.state || cur2.prevEpoch != 3 {
		t.Fatalf("current: %+v %v", cur2, err)
	}
	var md cgMetadata
	if err := md.decode((&cgMetadata{epoch: 2, metadataHash: -5}).encode()); err != nil || md.epoch != 2 || md.metadataHash != -5 {
		t.Fatalf("metadata: %+v %v", md, err)
	}
}

// Records of Kafka before 4.3 carry no assignment epochs: partitions
// take the member epoch. Unknown tags are skipped.
func TestConsumerRecordsOlderAndNewerWriters(t *testing.T) {
	e := enc{}
	e.int16(0)
	e.int32(5)
	e.int32(4)
	e.int8(0)
	e.alen(1)
	e.uuid(topicID("t"))
	e.int32s([]int32{0, 1})
	e.noTags()
	e.alen(0)
	e.uvarint(1) // a tag from a newer writer
	e.uvarint(9)
	e.uvarint(2)
	e.b = append(e.b, 0xab, 0xcd)
	var v cgCurrentValue
	if err := v.decode(e.b); err != nil {
		t.Fatal(err)
	}
	if v.assigned[topicID("t")][0] != 5 || v.assigned[topicID("t")][1] != 5 {
		t.Fatalf("assignment epochs %v", v.assigned)
	}
}

func TestConsumerRecordsTruncated(t *testing.T) {
	full := (&cgCurrentValue{epoch: 1, assigned: parts{topicID("t"): {0: 1}}, revoking: parts{}}).encode()
	for n := range len(full) - 1 {
		var v cgCurrentValue
		if err := v.decode(full[:n]); err == nil {
			t.Fatalf("%d of %d bytes decoded", n, len(full))
		}
	}
	if _, err := decodeCGKey([]byte{0, 5, 0, 3, 'a'}); err == nil {
		t.Fatal("truncated key decoded")
	}
}

// FuzzConsumerRecords: no record bytes make a decoder panic.
func FuzzConsumerRecords(f *testing.F) {
	f.Add(cgKey(cgCurrentKey, "g", "m"), (&cgCurrentValue{epoch: 1, assigned: parts{topicID("t"): {0: 1}}, revoking: parts{}}).encode())
	f.Add(cgKey(cgMemberKey, "g", "m"), (&cgMemberValue{clientID: "c", topics: []string{"t"}}).encode())
	f.Add(cgKey(cgPartitionMetadataKey, "g", ""), encodePartitionMetadata(map[string]topicMeta{"t": {name: "t", partitions: 2}}))
	f.Add(cgKey(cgMetadataKey, "g", ""), (&cgMetadata{epoch: 1, metadataHash: 3}).encode())
	f.Fuzz(func(t *testing.T, key, value []byte) {
		s := newShard(&Options{}, 0)
		_ = s.replayConsumer(key, value, 0)
	})
}
