package group

import (
	"bytes"
	"encoding/hex"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/batch"
)

// The byte layouts of docs/format/consumer-offsets.md.
func TestRecordBytes(t *testing.T) {
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"offset key", offsetKey("g", "t", 2), "0001" + "0001" + "67" + "0001" + "74" + "00000002"},
		{"offset value v3", offsetValue(&offset{offset: 5, leaderEpoch: 7, metadata: "m", commitMs: 9, expireMs: -1}),
			"0003" + "0000000000000005" + "00000007" + "0001" + "6d" + "0000000000000009"},
		{"offset value v1", offsetValue(&offset{offset: 5, leaderEpoch: 7, commitMs: 9, expireMs: 11}),
			"0001" + "0000000000000005" + "0000" + "0000000000000009" + "000000000000000b"},
		{"group key", groupKey("g"), "0002" + "0001" + "67"},
		{"empty group value v3", groupValue(&group{generation: 4, stateTimestamp: 8, members: map[string]*member{}}),
			"0003" + "0000" + "00000004" + "ffff" + "ffff" + "0000000000000008" + "00000000"},
	}
	for _, tt := range tests {
		if got := hex.EncodeToString(tt.got); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, got, tt.want)
		}
	}
}

// Records written by older Kafka versions replay: offset values v0-v3,
// group metadata v0-v3.
func TestReplayOldVersions(t *testing.T) {
	s := newShard(&Options{}, 0)
	replay := func(key, value []byte, ts int64) {
		t.Helper()
		if err := s.Replay(nil, &batch.Record{Timestamp: ts, Key: key, Value: value}); err != nil {
			t.Fatalf("replay: %v", err)
		}
	}
	for v := int16(0); v <= 3; v++ {
		k := kmsg.OffsetCommitKey{Version: 0, Group: "g", Topic: "t", Partition: int32(v)}
		val := kmsg.NewOffsetCommitValue()
		val.Version, val.Offset, val.LeaderEpoch, val.Metadata, val.CommitTimestamp, val.ExpireTimestamp = v, int64(100+v), 5, "x", 1, 2
		replay(k.AppendTo(nil), val.AppendTo(nil), 0)
	}
	g := s.groups["g"]
	for p := int32(0); p <= 3; p++ {
		o := g.offsets["t"][p]
		wantEpoch, wantExpire := int32(-1), int64(-1)
		if p == 3 {
			wantEpoch = 5
		}
		if p == 1 {
			wantExpire = 2
		}
		if o.offset != int64(100+p) || o.leaderEpoch != wantEpoch || o.expireMs != wantExpire || o.metadata != "x" {
			t.Errorf("offset value v%d replayed as %+v", p, o)
		}
	}
	for v := int16(0); v <= 3; v++ {
		val := kmsg.NewGroupMetadataValue()
		val.Version, val.ProtocolType, val.Generation = v, consumerProtocolType, int32(v+1)
		val.Protocol, val.Leader = kmsg.StringPtr("range"), kmsg.StringPtr("m1")
		m := kmsg.NewGroupMetadataValueMember()
		m.MemberID, m.ClientID, m.SessionTimeoutMillis, m.RebalanceTimeoutMillis = "m1", "c", 3000, 6000
		m.Subscription, m.Assignment = []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, []byte("a")
		val.Members = []kmsg.GroupMetadataValueMember{m}
		replay(groupKey("g"), val.AppendTo(nil), 0)
		g := s.groups["g"]
		wantRebalance := int32(6000)
		if v == 0 {
			wantRebalance = 3000 // v0 has none: the session timeout
		}
		mm := g.members["m1"]
		if g.state != Stable || g.generation != int32(v+1) || g.leader != "m1" || mm == nil ||
			mm.rebalanceTimeoutMs != wantRebalance || !bytes.Equal(mm.assignment, []byte("a")) || len(g.offsets["t"]) != 4 {
			t.Errorf("group value v%d replayed as %+v", v, g)
		}
	}
	replay(groupKey("g"), nil, 0)
	if g := s.groups["g"]; g == nil || g.state != Empty || len(g.members) != 0 {
		t.Fatal("a group tombstone keeps the offsets, drops the group metadata")
	}
	for p := int32(0); p <= 3; p++ {
		k := kmsg.OffsetCommitKey{Version: 1, Group: "g", Topic: "t", Partition: p}
		replay(k.AppendTo(nil), nil, 0)
	}
	replay(groupKey("g"), nil, 0)
	if s.groups["g"] != nil {
		t.Fatal("group without offsets kept after its tombstone")
	}
	// Keys of other record types (here a KIP-848 regex resolution,
	// v16; share groups) are skipped. Consumer group records (v3-8)
	// are consumer_records_test.go's.
	replay([]byte{0, 16, 0, 1, 'g'}, []byte{0, 0}, 0)
	if err := s.Replay(nil, &batch.Record{Key: []byte{0}}); err == nil {
		t.Fatal("a one-byte key replayed")
	}
}
