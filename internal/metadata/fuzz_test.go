package metadata

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/sluice-io/sluice/internal/fuzzcorpus"
	"github.com/sluice-io/sluice/internal/model"
)

// seedImage is a publisher with a cluster, a broker, a topic of two
// partitions with a config override and a broker config.
func seedImage(t testing.TB) *Publisher {
	p := NewPublisher()
	v := "1000"
	entry, err := EncodeEntry(seedRecords(&v))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Apply(1, entry); err != nil {
		t.Fatal(err)
	}
	return p
}

func seedRecords(v *string) []Record {
	id := model.TopicID{7}
	return []Record{
		{Cluster: &ClusterRecord{ClusterID: "c"}},
		{Broker: &BrokerRecord{ID: 1, Host: "localhost", Port: 9092}},
		{Topic: &TopicRecord{Name: "t", ID: id}},
		{Partition: &PartitionRecord{TopicID: id, Partition: 0, Leader: 1, Replicas: []model.NodeID{1}, ISR: []model.NodeID{1}}},
		{Partition: &PartitionRecord{TopicID: id, Partition: 1, Leader: 1, Replicas: []model.NodeID{1}, ISR: []model.NodeID{1}}},
		{Config: &ConfigRecord{ResourceType: ResourceTopic, ResourceName: "t", Key: "retention.ms", Value: v}},
		{Config: &ConfigRecord{ResourceType: ResourceBroker, ResourceName: "", Key: "log.retention.ms", Value: v}},
		{ProducerIDs: &ProducerIDsRecord{Broker: 1, NextID: 1000}},
	}
}

// checkImage fails t if im breaks an invariant readers rely on: every
// topic is known by its name and by its id, and nothing else is.
func checkImage(t *testing.T, im *Image) {
	t.Helper()
	if im.Brokers == nil || im.Topics == nil || im.TopicIDs == nil || im.BrokerConfigs == nil {
		t.Fatalf("image with a nil map: %+v", im)
	}
	if len(im.Topics) != len(im.TopicIDs) {
		t.Fatalf("%d topics by name, %d by id", len(im.Topics), len(im.TopicIDs))
	}
	for name, tp := range im.Topics {
		if tp == nil || tp.Name != name || im.TopicIDs[tp.ID] != tp {
			t.Fatalf("topic %q is not itself by name and id: %+v", name, tp)
		}
	}
	for id, b := range im.Brokers {
		if b == nil || b.ID != id {
			t.Fatalf("broker %d is %+v", id, b)
		}
	}
}

// FuzzApplyEntry feeds any raft entry to a publisher holding a topic: it
// is refused or applied, and an applied entry leaves a consistent image
// whose records round-trip and whose snapshot restores to the same image.
func FuzzApplyEntry(f *testing.F) {
	v := "5"
	good, _ := EncodeEntry(seedRecords(&v))
	fuzzcorpus.Add(f, good)
	id := model.TopicID{7}
	for _, recs := range [][]Record{
		{{Topic: &TopicRecord{Name: "u", ID: model.TopicID{8}}}, {Partition: &PartitionRecord{TopicID: model.TopicID{8}}}},
		{{RemoveTopic: &RemoveTopicRecord{ID: id}}},
		{{Partition: &PartitionRecord{TopicID: id, Partition: 2, Leader: 1}}},
		{{Config: &ConfigRecord{ResourceType: ResourceTopic, ResourceName: "t", Key: "retention.ms"}}},
		{{Topic: &TopicRecord{Name: "other", ID: id}}},
		{{}},
	} {
		b, _ := EncodeEntry(recs)
		fuzzcorpus.Add(f, b)
	}
	fuzzcorpus.Add(f, []byte(`[{"partition":{"topicId":"AAAAAAAAAAAAAAAAAAAAAA","partition":-1}}]`))
	fuzzcorpus.Add(f, []byte(`[{"partition":{"topicId":"BwAAAAAAAAAAAAAAAAAAAA","partition":-1}}]`)) // panicked: index out of range
	fuzzcorpus.Add(f, []byte(`[{"topic":{"name":"u","id":"BwAAAAAAAAAAAAAAAAAAAA"}}]`))              // a second name for topic t's id
	f.Fuzz(func(t *testing.T, entry []byte) {
		p := seedImage(t)
		if err := p.Apply(2, entry); err != nil {
			return
		}
		im := p.Current()
		checkImage(t, im)
		recs, err := DecodeEntry(entry)
		if err != nil {
			t.Fatal(err)
		}
		again, err := EncodeEntry(recs)
		if err != nil {
			t.Fatal(err)
		}
		if recs2, err := DecodeEntry(again); err != nil || !reflect.DeepEqual(recs, recs2) {
			t.Fatalf("records do not round-trip: %v", err)
		}
		snap, err := p.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		q := NewPublisher()
		if err := q.Restore(im.Index, snap); err != nil {
			t.Fatalf("restore of a snapshot: %v", err)
		}
		if !reflect.DeepEqual(q.Current(), im) {
			t.Fatal("snapshot does not restore to the same image")
		}
	})
}

// FuzzRestore feeds any snapshot data to Restore (the raft snapshot file's
// contents, once its checksum holds): it is refused or gives a consistent
// image whose own snapshot is stable.
func FuzzRestore(f *testing.F) {
	snap, _ := seedImage(f).Snapshot()
	fuzzcorpus.Add(f, snap)
	fuzzcorpus.Add(f, []byte(`{"Topics":{"a":null}}`))
	fuzzcorpus.Add(f, []byte(`{"Topics":{"a":{"Name":"b"}}}`))
	fuzzcorpus.Add(f, []byte(`{"Brokers":{"1":null},"Topics":null}`))
	fuzzcorpus.Add(f, []byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := NewPublisher()
		if err := p.Restore(3, data); err != nil {
			return
		}
		im := p.Current()
		checkImage(t, im)
		s1, err := p.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		q := NewPublisher()
		if err := q.Restore(3, s1); err != nil {
			t.Fatalf("restore of its own snapshot: %v", err)
		}
		if s2, _ := q.Snapshot(); !bytes.Equal(s1, s2) {
			t.Fatal("snapshot is not stable")
		}
	})
}
