package txn

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/model"
)

// noProducerID and noEpoch are Kafka's RecordBatch.NO_PRODUCER_ID and
// NO_PRODUCER_EPOCH.
const (
	noProducerID model.ProducerID    = -1
	noEpoch      model.ProducerEpoch = -1
)

// Record versions (docs/format/transaction-state.md): the key is version
// 0; the value is written as version 1, flexible, whose tagged fields
// carry the KIP-890 producer ids and the client's transaction version.
const (
	keyVersion   = 0
	valueVersion = 1
)

// meta is one transactional id's state, Kafka's TransactionMetadata. A
// meta in a shard's map is never changed in place: an op builds the next
// one (clone) and swaps it in, so a completion in flight keeps the one it
// started from. Guarded by the shard's lock.
type meta struct {
	id             string
	producerID     model.ProducerID
	prevProducerID model.ProducerID // the id before a rotation (KIP-360 retries)
	nextProducerID model.ProducerID // TV2: the id after this transaction, when the epoch ran out
	epoch          model.ProducerEpoch
	lastEpoch      model.ProducerEpoch // the epoch before the last bump; not persisted, as in Kafka
	timeoutMs      int32
	state          State
	partitions     map[model.TopicPartition]struct{}
	startMs        int64 // when the transaction began; -1 none
	updateMs       int64
	tv             int16 // the client's transaction version: 2 bumps the epoch on every EndTxn (KIP-890)
}

func (m *meta) clone() *meta {
	c := *m
	c.partitions = maps.Clone(m.partitions)
	if c.partitions == nil {
		c.partitions = map[model.TopicPartition]struct{}{}
	}
	return &c
}

// epochExhausted is Kafka's isEpochExhausted: a bump would leave no room
// for the fencing bump after it.
func epochExhausted(e model.ProducerEpoch) bool { return e >= math.MaxInt16-1 }

// sortedPartitions lists the transaction's partitions by topic, partition.
func (m *meta) sortedPartitions() []model.TopicPartition {
	out := slices.Collect(maps.Keys(m.partitions))
	slices.SortFunc(out, func(a, b model.TopicPartition) int {
		if c := cmp.Compare(a.Topic, b.Topic); c != 0 {
			return c
		}
		return cmp.Compare(a.Partition, b.Partition)
	})
	return out
}

func recordKey(id string) []byte {
	k := kmsg.TxnMetadataKey{Version: keyVersion, TransactionalID: id}
	return k.AppendTo(nil)
}

// recordValue is m as a TxnMetadataValue.
func recordValue(m *meta) []byte {
	v := kmsg.NewTxnMetadataValue()
	v.Version = valueVersion
	v.ProducerID, v.ProducerEpoch, v.TimeoutMillis = int64(m.producerID), int16(m.epoch), m.timeoutMs
	v.State = kmsg.TransactionState(m.state)
	v.LastUpdateTimestamp, v.StartTimestamp = m.updateMs, m.startMs
	v.PreviousProducerID, v.NextProducerID, v.ClientTransactionVersion = int64(m.prevProducerID), int64(m.nextProducerID), m.tv
	var last *kmsg.TxnMetadataValueTopic
	for _, tp := range m.sortedPartitions() {
		if last == nil || last.Topic != tp.Topic {
			v.Topics = append(v.Topics, kmsg.TxnMetadataValueTopic{Topic: tp.Topic})
			last = &v.Topics[len(v.Topics)-1]
		}
		last.Partitions = append(last.Partitions, tp.Partition)
	}
	return v.AppendTo(nil)
}

// decodeRecord reads a __transaction_state record; a nil meta is a
// tombstone.
func decodeRecord(key, value []byte) (string, *meta, error) {
	var k kmsg.TxnMetadataKey
	if err := k.ReadFrom(key); err != nil {
		return "", nil, fmt.Errorf("transaction key: %w", err)
	}
	if value == nil {
		return k.TransactionalID, nil, nil
	}
	var v kmsg.TxnMetadataValue
	if err := v.ReadFrom(value); err != nil {
		return "", nil, fmt.Errorf("transaction value of %q: %w", k.TransactionalID, err)
	}
	if st := State(v.State); st < Empty || st > PrepareEpochFence {
		return "", nil, fmt.Errorf("transaction value of %q: unknown state %d", k.TransactionalID, v.State) // as Kafka's TransactionState.fromId
	}
	m := &meta{id: k.TransactionalID, producerID: model.ProducerID(v.ProducerID), prevProducerID: model.ProducerID(v.PreviousProducerID),
		nextProducerID: model.ProducerID(v.NextProducerID), epoch: model.ProducerEpoch(v.ProducerEpoch), lastEpoch: noEpoch,
		timeoutMs: v.TimeoutMillis, state: State(v.State), partitions: map[model.TopicPartition]struct{}{},
		startMs: v.StartTimestamp, updateMs: v.LastUpdateTimestamp, tv: v.ClientTransactionVersion}
	if v.Version == 0 {
		m.prevProducerID, m.nextProducerID = noProducerID, noProducerID
	}
	for _, t := range v.Topics {
		for _, p := range t.Partitions {
			m.partitions[model.TopicPartition{Topic: t.Topic, Partition: p}] = struct{}{}
		}
	}
	return m.id, m, nil
}
