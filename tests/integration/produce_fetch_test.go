package integration

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-io/sluice/internal/node/nodetest"
)

func TestProduceConsumeRoundTrip(t *testing.T) {
	t0 := time.Now()
	n := nodetest.Start(t)
	adm := nodetest.Admin(t, n)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := adm.CreateTopic(ctx, 3, 1, nil, "rt"); err != nil {
		t.Fatalf("create topic: %v", err)
	}
	prod := nodetest.Client(t, n, kgo.DefaultProduceTopic("rt"))
	const count = 1000
	for i := 0; i < count; i++ {
		r := &kgo.Record{Key: []byte(fmt.Sprint(i % 7)), Value: []byte(fmt.Sprintf("value-%d", i))}
		prod.Produce(ctx, r, func(_ *kgo.Record, err error) {
			if err != nil {
				t.Errorf("produce: %v", err)
			}
		})
	}
	if err := prod.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	t.Log("produced", time.Since(t0))
	cons := nodetest.Client(t, n, kgo.ConsumeTopics("rt"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	seen := map[string]bool{}
	lastOffset := map[int32]int64{}
	for len(seen) < count {
		fs := cons.PollFetches(ctx)
		if err := fs.Err(); err != nil {
			t.Fatalf("poll: %v", err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if prev, ok := lastOffset[r.Partition]; ok && r.Offset != prev+1 {
				t.Errorf("partition %d: offset %d after %d", r.Partition, r.Offset, prev)
			}
			lastOffset[r.Partition] = r.Offset
			if seen[string(r.Value)] {
				t.Errorf("duplicate %s", r.Value)
			}
			seen[string(r.Value)] = true
		})
	}
	for i := 0; i < count; i++ {
		if !seen[fmt.Sprintf("value-%d", i)] {
			t.Fatalf("missing value-%d", i)
		}
	}
	t.Log("done", time.Since(t0))
}
