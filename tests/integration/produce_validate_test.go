package integration

import (
	"context"
	"encoding/binary"
	"hash/crc32"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/node/nodetest"
)

// craftRecord encodes one v2 record with kmsg, its length filled in.
func craftRecord(offDelta int32, tsDelta int64, key, value []byte) []byte {
	r := kmsg.Record{TimestampDelta64: tsDelta, OffsetDelta: offDelta, Key: key, Value: value}
	body := r.AppendTo(nil)[1:] // Length 0 takes one byte
	r.Length = int32(len(body))
	return r.AppendTo(nil)
}

// craftBatch frames records as a v2 batch whose header counts count
// records, with attributes attrs, timestamps first and max, and a correct
// CRC: only the contents can be wrong.
func craftBatch(count int32, attrs int16, first, maxTS int64, records []byte) []byte {
	rb := kmsg.RecordBatch{
		Magic: 2, Attributes: attrs, LastOffsetDelta: count - 1, FirstTimestamp: first, MaxTimestamp: maxTS,
		ProducerID: -1, ProducerEpoch: -1, FirstSequence: -1, NumRecords: count, Records: records,
		PartitionLeaderEpoch: -1,
	}
	b := rb.AppendTo(nil)
	binary.BigEndian.PutUint32(b[8:], uint32(len(b)-12))
	binary.BigEndian.PutUint32(b[17:], crc32.Checksum(b[21:], crc32.MakeTable(crc32.Castagnoli)))
	return b
}

func produceRequest(topic string, records []byte) *kmsg.ProduceRequest {
	req := kmsg.NewPtrProduceRequest()
	req.Acks, req.TimeoutMillis = -1, 5000
	t := kmsg.NewProduceRequestTopic()
	t.Topic = topic
	p := kmsg.NewProduceRequestTopicPartition()
	p.Records = records
	t.Partitions = append(t.Partitions, p)
	req.Topics = append(req.Topics, t)
	return req
}

// TestProduceValidatesRecords sends, through a real broker, the batches
// of issue 13 (defect 3) that Sluice used to store and consumers then
// failed on forever: each gets Apache Kafka's error code (and, for refused
// records, record_errors and error_message as Kafka's ProduceResponse v8+
// carries them), the high watermark does not move, and a good batch on
// the same connection is then appended.
func TestProduceValidatesRecords(t *testing.T) {
	n := nodetest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	adm := nodetest.Admin(t, n)
	hour := "3600000"
	if _, err := adm.CreateTopic(ctx, 1, 1, map[string]*string{"message.timestamp.before.max.ms": &hour}, "v"); err != nil {
		t.Fatal(err)
	}
	compact := "compact"
	if _, err := adm.CreateTopic(ctx, 1, 1, map[string]*string{"cleanup.policy": &compact}, "vc"); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UnixMilli()
	val := []byte("a value a consumer should be able to read")
	rec := func(i int32) []byte { return craftRecord(i, 0, []byte{'k', byte('0' + i)}, val) }
	three := append(append(rec(0), rec(1)...), rec(2)...)
	gzipAttr := int16(1)
	tests := []struct {
		name    string
		topic   string
		batch   []byte
		want    *kerr.Error
		refused []int32 // record_errors batch indexes
	}{
		// Kafka: wrapForInput/readNext throw a KafkaException, which
		// ReplicaManager answers with UNKNOWN_SERVER_ERROR.
		{"gzip batch with a garbage payload", "v", craftBatch(1, gzipAttr, now, now, []byte("this is not gzip, just some bytes")), kerr.UnknownServerError, nil},
		// Kafka: InvalidRecordException("Incorrect declared batch size").
		{"header counts 5, holds 3", "v", craftBatch(5, 0, now, now, three), kerr.InvalidRecord, nil},
		{"header counts 2, holds 3", "v", craftBatch(2, 0, now, now, three), kerr.InvalidRecord, nil},
		{"record length past the batch", "v", craftBatch(1, 0, now, now, rec(0)[:len(rec(0))-4]), kerr.InvalidRecord, nil},
		{"offset deltas 0, 0", "v", craftBatch(2, 0, now, now, append(rec(0), rec(0)...)), kerr.InvalidRecord, nil},
		// Kafka: RecordValidationException(InvalidTimestampException).
		{"a record stamped 1970 in a batch stamped now", "v",
			craftBatch(2, 0, now, now, append(rec(0), craftRecord(1, -now+1000, []byte("k"), val)...)), kerr.InvalidTimestamp, []int32{1}},
		// Kafka: RecordValidationException(InvalidRecordException).
		{"keyless record, compacted topic", "vc", craftBatch(2, 0, now, now, append(rec(0), craftRecord(1, 0, nil, val)...)), kerr.InvalidRecord, []int32{1}},
	}
	conn := dial(t, n)
	good := map[string]int64{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := endOffset(ctx, t, adm, tt.topic)
			resp := conn.request(produceRequest(tt.topic, tt.batch), 9).(*kmsg.ProduceResponse)
			p := resp.Topics[0].Partitions[0]
			if p.ErrorCode != tt.want.Code {
				t.Fatalf("error %d (%v), want %s", p.ErrorCode, kerr.ErrorForCode(p.ErrorCode), tt.want.Message)
			}
			var got []int32
			for _, r := range p.ErrorRecords {
				got = append(got, r.RelativeOffset)
			}
			if len(got) != len(tt.refused) || (len(got) > 0 && (got[0] != tt.refused[0] || p.ErrorMessage == nil)) {
				t.Fatalf("record_errors %v (message %v), want %v", got, p.ErrorMessage, tt.refused)
			}
			if after := endOffset(ctx, t, adm, tt.topic); after != before {
				t.Fatalf("high watermark moved from %d to %d", before, after)
			}
			ok := craftBatch(3, 0, now, now, three)
			resp = conn.request(produceRequest(tt.topic, ok), 9).(*kmsg.ProduceResponse)
			if p := resp.Topics[0].Partitions[0]; p.ErrorCode != 0 || p.BaseOffset != before {
				t.Fatalf("good batch after the bad one: error %d, base offset %d, want %d", p.ErrorCode, p.BaseOffset, before)
			}
			good[tt.topic] += 3
		})
	}
	// A consumer reads exactly the good records, in order.
	for _, topic := range []string{"v", "vc"} {
		cl := nodetest.Client(t, n, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		var read int64
		for read < good[topic] {
			fs := cl.PollFetches(ctx)
			if err := fs.Err(); err != nil {
				t.Fatalf("%s: %v", topic, err)
			}
			fs.EachRecord(func(r *kgo.Record) {
				if r.Offset != read || string(r.Value) != string(val) {
					t.Fatalf("%s: record at %d is %q at offset %d", topic, read, r.Value, r.Offset)
				}
				read++
			})
		}
	}
}

func endOffset(ctx context.Context, t *testing.T, adm *kadm.Client, topic string) int64 {
	t.Helper()
	offs, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	o, ok := offs.Lookup(topic, 0)
	if !ok || o.Err != nil {
		t.Fatalf("end offset of %s: %v", topic, o.Err)
	}
	return o.Offset
}
