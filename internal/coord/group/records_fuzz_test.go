package group

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/batch"
	"github.com/sluice-io/sluice/internal/fuzzcorpus"
)

// txnHeader is a batch header of a transactional batch of producer 5.
func txnHeader(t testing.TB) batch.Header {
	info := batch.NewBatchInfo(batch.CodecNone)
	info.ProducerID, info.ProducerEpoch, info.Transactional = 5, 0, true
	b := batch.NewBuilder(info)
	if err := b.Add(&batch.Record{Key: []byte("k")}); err != nil {
		t.Fatal(err)
	}
	out, err := b.Build(nil)
	if err != nil {
		t.Fatal(err)
	}
	return batch.Header(out[:batch.HeaderSize])
}

// FuzzGroupRecords replays any __consumer_offsets record (classic offset
// commits and group metadata, plain or transactional, and KIP-848
// records) into a shard: it is refused or applied, and an applied record
// leaves groups whose members are each known once, whose offsets
// round-trip through their record, and whose metadata re-encodes.
func FuzzGroupRecords(f *testing.F) {
	meta := kmsg.NewGroupMetadataValue()
	meta.Version, meta.ProtocolType, meta.Generation = 3, consumerProtocolType, 2
	meta.Protocol, meta.Leader = kmsg.StringPtr("range"), kmsg.StringPtr("m1")
	m := kmsg.NewGroupMetadataValueMember()
	m.MemberID, m.ClientID, m.SessionTimeoutMillis, m.RebalanceTimeoutMillis = "m1", "c", 3000, 6000
	m.InstanceID = kmsg.StringPtr("i1")
	m.Subscription, m.Assignment = []byte{0, 0, 0, 0, 0, 1, 0, 1, 't', 0, 0, 0, 0}, []byte("a")
	meta.Members = []kmsg.GroupMetadataValueMember{m, m}
	fuzzcorpus.Add(f, groupKey("g"), meta.AppendTo(nil), false, false)
	meta.Members = meta.Members[:1]
	fuzzcorpus.Add(f, groupKey("g"), meta.AppendTo(nil), false, false)
	fuzzcorpus.Add(f, groupKey("g"), []byte{}, true, false)
	o := &offset{offset: 42, leaderEpoch: 3, metadata: "m", commitMs: 7, expireMs: -1}
	fuzzcorpus.Add(f, offsetKey("g", "t", 0), offsetValue(o), false, false)
	fuzzcorpus.Add(f, offsetKey("g", "t", 0), offsetValue(o), false, true)
	fuzzcorpus.Add(f, offsetKey("g", "t", 0), []byte{}, true, true)
	o.expireMs = 99
	fuzzcorpus.Add(f, offsetKey("g", "t", -1), offsetValue(o), false, false)
	fuzzcorpus.Add(f, cgKey(cgCurrentKey, "g", "m"), (&cgCurrentValue{epoch: 1, assigned: parts{topicID("t"): {0: 1}}, revoking: parts{}}).encode(), false, false)
	fuzzcorpus.Add(f, cgKey(cgMemberKey, "g", "m"), (&cgMemberValue{clientID: "c", topics: []string{"t"}}).encode(), false, false)
	fuzzcorpus.Add(f, cgKey(cgMetadataKey, "g", ""), (&cgMetadata{epoch: 1, metadataHash: 3}).encode(), false, false)
	fuzzcorpus.Add(f, []byte{0, 9, 0, 1, 'g'}, []byte{0, 0}, false, false)
	txn := txnHeader(f)
	f.Fuzz(func(t *testing.T, key, value []byte, null, transactional bool) {
		if null {
			value = nil
		}
		var h batch.Header
		if transactional {
			h = txn
		}
		s := newShard(&Options{}, 0)
		if err := s.Replay(h, &batch.Record{Key: key, Value: value, Offset: 10}); err != nil {
			return
		}
		for id, g := range s.groups {
			if g == nil || g.id != id {
				t.Fatalf("group %q is %+v", id, g)
			}
			if len(g.order) != len(g.members) {
				t.Fatalf("group %q: %d members in order, %d by id", id, len(g.order), len(g.members))
			}
			for _, m := range g.order {
				if g.members[m] == nil {
					t.Fatalf("group %q: member %q in order only", id, m)
				}
			}
			if g.consumer == nil {
				var v kmsg.GroupMetadataValue
				if err := v.ReadFrom(groupValue(g)); err != nil {
					t.Fatalf("group %q does not re-encode: %v", id, err)
				}
			}
			for topic, ps := range g.offsets {
				for p, o := range ps {
					back, err := decodeOffset(offsetValue(o))
					if err != nil || back.offset != o.offset || back.leaderEpoch != o.leaderEpoch || back.metadata != o.metadata ||
						back.commitMs != o.commitMs || back.expireMs != o.expireMs {
						t.Fatalf("offset of %q %s-%d does not round-trip: %+v, %+v, %v", id, topic, p, o, back, err)
					}
				}
			}
		}
	})
}
