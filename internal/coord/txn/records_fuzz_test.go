package txn

import (
	"maps"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/batch"
	"github.com/sluice-io/sluice/internal/fuzzcorpus"
	"github.com/sluice-io/sluice/internal/model"
)

// FuzzTxnRecords replays any __transaction_state record into a shard: it
// is refused or applied, and an applied record holds a state a record may
// hold (Kafka's loader refuses an unknown state) and round-trips through
// recordValue.
func FuzzTxnRecords(f *testing.F) {
	m := &meta{id: "tx", producerID: 7, prevProducerID: -1, nextProducerID: -1, epoch: 2, timeoutMs: 60000,
		state: Ongoing, partitions: map[model.TopicPartition]struct{}{{Topic: "t", Partition: 1}: {}, {Topic: "t", Partition: 0}: {}, {Topic: "u", Partition: 3}: {}},
		startMs: 5, updateMs: 6, tv: 2}
	fuzzcorpus.Add(f, recordKey("tx"), recordValue(m), false)
	m.state = PrepareCommit
	fuzzcorpus.Add(f, recordKey("tx"), recordValue(m), false)
	m.state, m.partitions = CompleteAbort, map[model.TopicPartition]struct{}{}
	fuzzcorpus.Add(f, recordKey("tx"), recordValue(m), false)
	fuzzcorpus.Add(f, recordKey("tx"), []byte{}, true)
	v0 := kmsg.NewTxnMetadataValue()
	v0.Version, v0.ProducerID, v0.State = 0, 9, kmsg.TransactionStateEmpty
	fuzzcorpus.Add(f, recordKey("old"), v0.AppendTo(nil), false)
	v0.State = 42
	fuzzcorpus.Add(f, recordKey("old"), v0.AppendTo(nil), false)
	f.Fuzz(func(t *testing.T, key, value []byte, null bool) {
		if null {
			value = nil
		}
		s := newShard(&Options{}, 0, 1, nil)
		if err := s.Replay(nil, &batch.Record{Key: key, Value: value}); err != nil {
			return
		}
		for id, m := range s.txns {
			if m == nil || m.id != id || m.partitions == nil {
				t.Fatalf("transaction %q is %+v", id, m)
			}
			if m.state < Empty || m.state > CompleteAbort {
				t.Fatalf("transaction %q replayed in state %d", id, m.state)
			}
			id2, back, err := decodeRecord(recordKey(id), recordValue(m))
			if err != nil || id2 != id || back.producerID != m.producerID || back.prevProducerID != m.prevProducerID ||
				back.nextProducerID != m.nextProducerID || back.epoch != m.epoch || back.timeoutMs != m.timeoutMs ||
				back.state != m.state || !maps.Equal(back.partitions, m.partitions) || back.startMs != m.startMs ||
				back.updateMs != m.updateMs || back.tv != m.tv {
				t.Fatalf("transaction %q does not round-trip: %+v, %+v, %v", id, m, back, err)
			}
		}
	})
}
