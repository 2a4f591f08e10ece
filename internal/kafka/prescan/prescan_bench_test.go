package prescan

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// typical returns the bodies of a producer's and a consumer's usual
// requests: a Produce v11 of one topic with 1 and 6 partitions of 16 KiB
// record bytes, and a Fetch v13 of one topic with 6 partitions.
func typical() map[string]struct {
	key, version int16
	body         []byte
} {
	produce := func(parts int) []byte {
		r := kmsg.NewPtrProduceRequest()
		r.Version, r.Acks = 11, -1
		t := kmsg.NewProduceRequestTopic()
		t.Topic = "orders"
		for p := 0; p < parts; p++ {
			rp := kmsg.NewProduceRequestTopicPartition()
			rp.Partition, rp.Records = int32(p), make([]byte, 16<<10)
			t.Partitions = append(t.Partitions, rp)
		}
		r.Topics = append(r.Topics, t)
		return r.AppendTo(nil)
	}
	f := kmsg.NewPtrFetchRequest()
	f.Version, f.MaxWaitMillis, f.MinBytes = 13, 500, 1
	ft := kmsg.NewFetchRequestTopic()
	ft.TopicID = [16]byte{1}
	for p := 0; p < 6; p++ {
		fp := kmsg.NewFetchRequestTopicPartition()
		fp.Partition, fp.FetchOffset, fp.PartitionMaxBytes = int32(p), 1000, 1<<20
		ft.Partitions = append(ft.Partitions, fp)
	}
	f.Topics = append(f.Topics, ft)
	return map[string]struct {
		key, version int16
		body         []byte
	}{
		"Produce1": {0, 11, produce(1)},
		"Produce6": {0, 11, produce(6)},
		"Fetch6":   {1, 13, f.AppendTo(nil)},
	}
}

// BenchmarkCheck is the walk's cost per request; BenchmarkReadFrom is
// kmsg's decode of the same body, for scale.
func BenchmarkCheck(b *testing.B) {
	for name, c := range typical() {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := Check(c.key, c.version, c.body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkReadFrom(b *testing.B) {
	for name, c := range typical() {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := kmsg.RequestForKey(c.key)
				req.SetVersion(c.version)
				if err := req.ReadFrom(c.body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
