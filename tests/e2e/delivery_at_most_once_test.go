package e2e

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/batch"
)

// TestAtMostOnceKafkaPythonAcksZero: the seed's at-most-once producer.
// kafka-python with acks=0 sends 2,000 records; it never waits for an
// answer (every RecordMetadata offset is -1, kafka-python's value when no
// response was read) and the broker sends none: after the sends
// kafka-python makes a metadata round trip on the same connection and
// logs no response it was not waiting for (it would for a produce
// answer: "Socket EVENT_READ without in-flight-requests"). Every record is
// stored, in order.
func TestAtMostOnceKafkaPythonAcksZero(t *testing.T) {
	t.Parallel()
	b := startBroker(t)
	const topic, count = "at-most-once", 2000
	makeTopic(t, b, topic, 1)
	var res struct {
		Offsets  []int64  `json:"offsets"`
		Problems []string `json:"problems"`
	}
	runScript(t, "kp_acks0.py", &res, b.Addr, topic, strconv.Itoa(count))
	if len(res.Offsets) != count {
		t.Fatalf("kafka-python reported %d sends, want %d", len(res.Offsets), count)
	}
	for i, o := range res.Offsets {
		if o != -1 {
			t.Fatalf("record %d: kafka-python got offset %d from a response, want -1 (no response for acks=0)", i, o)
		}
	}
	if len(res.Problems) > 0 {
		t.Fatalf("kafka-python logged problems (a response to acks=0?): %q", res.Problems)
	}
	got := readCount(t, b, topic, count)
	if !slices.Equal(got, valueRange("", 0, count)) {
		t.Fatalf("stored values differ from 0..%d in order: %.200q", count-1, got)
	}
}

// TestAcksZeroProduceHasNoResponse: on the wire, a Produce with acks=0
// followed by an ApiVersions on the same connection gets exactly one
// response, the ApiVersions one; the records are stored.
func TestAcksZeroProduceHasNoResponse(t *testing.T) {
	t.Parallel()
	b := startBroker(t)
	const topic = "acks0-raw"
	makeTopic(t, b, topic, 1)
	bld := batch.NewBuilder(batch.NewBatchInfo(0))
	for i := range 3 {
		if err := bld.Add(&batch.Record{Timestamp: time.Now().UnixMilli(), Value: []byte(strconv.Itoa(i))}); err != nil {
			t.Fatal(err)
		}
	}
	records, err := bld.Build(nil)
	if err != nil {
		t.Fatal(err)
	}
	produce := kmsg.NewPtrProduceRequest()
	produce.SetVersion(7)
	produce.Acks, produce.TimeoutMillis = 0, 5000
	pt := kmsg.NewProduceRequestTopic()
	pt.Topic = topic
	pp := kmsg.NewProduceRequestTopicPartition()
	pp.Records = records
	pt.Partitions = append(pt.Partitions, pp)
	produce.Topics = append(produce.Topics, pt)
	versions := kmsg.NewPtrApiVersionsRequest() // v0: a v0 response header
	f := kmsg.NewRequestFormatter(kmsg.FormatterClientID("raw"))
	// AppendRequest writes the size at dst[0]: one frame per call.
	frames := append(f.AppendRequest(nil, produce, 1), f.AppendRequest(nil, versions, 2)...)

	conn, err := net.DialTimeout("tcp", b.Addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := conn.Write(frames); err != nil {
		t.Fatal(err)
	}
	var hdr [8]byte // size, correlation id
	if _, err := io.ReadFull(conn, hdr[:]); err != nil {
		t.Fatalf("read the first response: %v", err)
	}
	if corr := int32(binary.BigEndian.Uint32(hdr[4:])); corr != 2 {
		t.Fatalf("first response has correlation id %d, want 2 (ApiVersions): the acks=0 produce was answered", corr)
	}
	if got := readCount(t, b, topic, 3); !slices.Equal(got, []string{"0", "1", "2"}) {
		t.Fatalf("stored %q, want 0 1 2", got)
	}
}

// readCount reads topic from the start until it has read count records
// (acks=0 gives no event to wait on but the records themselves), then
// checks that the log ends there.
func readCount(t *testing.T, b *broker, topic string, count int) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), deliveryTimeout)
	defer cancel()
	cons, err := kgo.NewClient(kgo.SeedBrokers(b.Addr), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	var got []string
	for len(got) < count {
		fs := cons.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d records of %s before the deadline", len(got), count, topic)
		}
		fs.EachError(func(_ string, p int32, err error) { t.Fatalf("read %s/%d: %v", topic, p, err) })
		fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	ends, err := newAdmin(t, b).ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	if total := sumOffsets(ends); total != int64(count) {
		t.Fatalf("%s ends at %d, want %d records", topic, total, count)
	}
	return got
}
