package integration

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/node/nodetest"
)

// A long-polling fetch is answered by the produce that brings it to
// min_bytes, well before max_wait, and not by the produces before it: a
// fetch over three partitions finds 1 KiB where it wants 3 KiB, so it
// must wait; a second 1 KiB record (another partition) leaves it waiting;
// the third, 2 KiB, answers it with all three records.
func TestLongPollFetchAnsweredByTheProduceThatFillsIt(t *testing.T) {
	n := nodetest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := nodetest.Admin(t, n).CreateTopic(ctx, 3, 1, nil, "lp"); err != nil {
		t.Fatal(err)
	}
	prod := nodetest.Client(t, n, kgo.DefaultProduceTopic("lp"), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerBatchCompression(kgo.NoCompression())) // sizes are what min_bytes counts
	produce := func(partition int32, size int) {
		t.Helper()
		r := &kgo.Record{Partition: partition, Value: bytes.Repeat([]byte{'v'}, size)}
		if err := prod.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatalf("produce to %d: %v", partition, err)
		}
	}
	produce(0, 1024) // before the fetch: it finds too little and waits

	const maxWait = 15 * time.Second
	fetch := fetchFromStart("lp", 3, maxWait, 3<<10)
	c := dial(t, n)
	c.c.SetDeadline(time.Now().Add(maxWait + 10*time.Second))
	c.send(kmsg.NewRequestFormatter(kmsg.FormatterClientID("raw")).AppendRequest(nil, fetch, 1))
	answered := make(chan *kmsg.FetchResponse, 1)
	go func() { answered <- readFetch(c) }() // nil when the read fails

	produce(1, 1024) // 2 KiB in all: not enough
	select {
	case resp := <-answered:
		if resp == nil {
			t.Fatal("no fetch response")
		}
		t.Fatalf("fetch answered with %d record bytes, below its min_bytes of 3 KiB", recordBytes(resp))
	default:
	}
	start := time.Now()
	produce(2, 2048)
	resp := <-answered
	if resp == nil {
		t.Fatal("no fetch response")
	}
	if waited := time.Since(start); waited > maxWait/2 {
		t.Fatalf("fetch answered %v after the produce that filled it: it waited for max_wait instead", waited)
	}
	for _, p := range resp.Topics[0].Partitions {
		if p.ErrorCode != 0 || p.HighWatermark != 1 || len(p.RecordBatches) == 0 {
			t.Errorf("partition %d: error %d, high watermark %d, %d record bytes; want its one record", p.Partition, p.ErrorCode, p.HighWatermark, len(p.RecordBatches))
		}
	}
}

// fetchFromStart is a fetch v11 of partitions 0..partitions-1 of topic
// from offset 0, waiting up to maxWait for minBytes.
func fetchFromStart(topic string, partitions int32, maxWait time.Duration, minBytes int32) *kmsg.FetchRequest {
	fetch := kmsg.NewPtrFetchRequest()
	fetch.SetVersion(11)
	fetch.ReplicaID, fetch.MaxWaitMillis, fetch.MinBytes, fetch.MaxBytes = -1, int32(maxWait/time.Millisecond), minBytes, 1<<20
	ft := kmsg.NewFetchRequestTopic()
	ft.Topic = topic
	for p := range partitions {
		fp := kmsg.NewFetchRequestTopicPartition()
		fp.Partition, fp.PartitionMaxBytes = p, 1<<20
		ft.Partitions = append(ft.Partitions, fp)
	}
	fetch.Topics = append(fetch.Topics, ft)
	return fetch
}

// readFetch reads one fetch v11 response from c, without failing the test
// (it runs off the test goroutine).
func readFetch(c *rawConn) *kmsg.FetchResponse {
	var size [4]byte
	if _, err := io.ReadFull(c.c, size[:]); err != nil {
		return nil
	}
	b := make([]byte, binary.BigEndian.Uint32(size[:]))
	if _, err := io.ReadFull(c.c, b); err != nil || len(b) < 4 {
		return nil
	}
	resp := kmsg.NewPtrFetchResponse()
	resp.SetVersion(11)
	if err := resp.ReadFrom(b[4:]); err != nil {
		return nil
	}
	return resp
}

func recordBytes(resp *kmsg.FetchResponse) int {
	n := 0
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			n += len(p.RecordBatches)
		}
	}
	return n
}
