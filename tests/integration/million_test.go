package integration

import (
	"context"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-io/sluice/internal/node/nodetest"
)

// recordValue is the deterministic payload of record i: its index and a
// filler whose length and bytes depend on i, so any corruption or mix-up
// shows.
func recordValue(i int) []byte {
	v := make([]byte, 8+i%97)
	binary.BigEndian.PutUint64(v, uint64(i))
	for j := 8; j < len(v); j++ {
		v[j] = byte(i*31 + j)
	}
	return v
}

// TestMillionRecords: 1,000,000 records to 6 partitions come back
// complete, in order per partition, byte-exact.
func TestMillionRecords(t *testing.T) {
	if testing.Short() {
		t.Skip("1M records: not in -short")
	}
	const total, partitions = 1_000_000, 6
	n := nodetest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := nodetest.Admin(t, n).CreateTopic(ctx, partitions, 1, nil, "million"); err != nil {
		t.Fatal(err)
	}
	prod := nodetest.Client(t, n, kgo.DefaultProduceTopic("million"),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerLinger(5*time.Millisecond),
		kgo.MaxBufferedRecords(100_000))
	errs := make(chan error, 1)
	for i := 0; i < total; i++ {
		r := &kgo.Record{Partition: int32(i % partitions), Value: recordValue(i)}
		prod.Produce(ctx, r, func(_ *kgo.Record, err error) {
			if err != nil {
				select {
				case errs <- err:
				default:
				}
			}
		})
	}
	if err := prod.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errs:
		t.Fatalf("produce: %v", err)
	default:
	}

	cons := nodetest.Client(t, n, kgo.ConsumeTopics("million"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxBytes(16<<20))
	next := make([]int, partitions) // next index expected per partition
	for p := range next {
		next[p] = p
	}
	got := 0
	for got < total {
		fs := cons.PollFetches(ctx)
		if err := fs.Err(); err != nil {
			t.Fatalf("poll after %d records: %v", got, err)
		}
		var bad error
		fs.EachRecord(func(r *kgo.Record) {
			p := int(r.Partition)
			want := recordValue(next[p])
			if bad == nil && string(r.Value) != string(want) {
				bad = fmt.Errorf("partition %d offset %d: got record %d, want %d", p, r.Offset,
					binary.BigEndian.Uint64(r.Value), next[p])
			}
			if bad == nil && r.Offset != int64(next[p]/partitions) {
				bad = fmt.Errorf("partition %d: offset %d, want %d", p, r.Offset, next[p]/partitions)
			}
			next[p] += partitions
			got++
		})
		if bad != nil {
			t.Fatal(bad)
		}
	}
	if got != total {
		t.Fatalf("read %d records, want %d", got, total)
	}
}
