package integration

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-io/sluice/internal/node"
	"github.com/sluice-io/sluice/internal/node/nodetest"
)

// TestCompactedTopicKeepsLatestPerKey: 200,000 updates over 1,000 keys
// (every tenth key deleted by a tombstone at the end) on a compacted
// topic shrink to about one record per live key once the broker's cleaner
// has run, and a consumer from the start sees the latest value of every
// live key and no deleted key.
func TestCompactedTopicKeepsLatestPerKey(t *testing.T) {
	const updates, keys = 200_000, 1_000
	n := nodetest.Start(t, func(o *node.Options) { o.CleanerInterval = 50 * time.Millisecond })
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	cfg := map[string]*string{
		"cleanup.policy": ptrTo("compact"), "segment.bytes": ptrTo("1048576"),
		"min.cleanable.dirty.ratio": ptrTo("0.01"), "delete.retention.ms": ptrTo("0"),
	}
	if _, err := nodetest.Admin(t, n).CreateTopic(ctx, 1, 1, cfg, "compacted"); err != nil {
		t.Fatal(err)
	}
	prod := nodetest.Client(t, n, kgo.DefaultProduceTopic("compacted"), kgo.ProducerLinger(2*time.Millisecond),
		kgo.ProducerBatchCompression(kgo.NoCompression()))
	var produceErr error
	record := func(r *kgo.Record) {
		prod.Produce(ctx, r, func(_ *kgo.Record, err error) {
			if err != nil && produceErr == nil {
				produceErr = err
			}
		})
	}
	latest := map[string]string{}
	for i := 0; i < updates; i++ {
		k, v := fmt.Sprintf("key-%d", i%keys), fmt.Sprintf("value-%d", i)
		latest[k] = v
		record(&kgo.Record{Key: []byte(k), Value: []byte(v)})
	}
	for k := 0; k < keys; k += 10 {
		key := fmt.Sprintf("key-%d", k)
		delete(latest, key)
		record(&kgo.Record{Key: []byte(key)}) // tombstone
	}
	// More than a segment of filler (uncompressed) so every update above
	// is out of the active segment, which the cleaner never touches.
	var filler string
	for i := 0; i < 12000; i++ {
		filler = fmt.Sprintf("%0100d", i)
		record(&kgo.Record{Key: []byte("filler"), Value: []byte(filler)})
	}
	latest["filler"] = filler
	if err := prod.Flush(ctx); err != nil || produceErr != nil {
		t.Fatalf("produce: %v %v", err, produceErr)
	}

	// Wait for the cleaner: read the topic from the start until it holds
	// few enough records.
	var got map[string]string
	var count int
	for {
		got, count = readAll(ctx, t, n)
		if count < 2*keys+12000 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("still %d records after the deadline", count)
		}
		time.Sleep(100 * time.Millisecond) // the cleaner runs on its own schedule
	}
	for k, v := range latest {
		if got[k] != v {
			t.Fatalf("key %s: got %.20q, want %.20q", k, got[k], v)
		}
	}
	for k := range got {
		if _, ok := latest[k]; !ok {
			t.Fatalf("deleted key %s still readable", k)
		}
	}
	t.Logf("%d updates over %d keys compacted to %d records", updates, keys, count)
}

// readAll reads the whole topic and returns the last value per key (keys
// whose last record is a tombstone are absent) and the record count.
func readAll(ctx context.Context, t *testing.T, n *node.Node) (map[string]string, int) {
	t.Helper()
	cl := nodetest.Client(t, n, kgo.ConsumeTopics("compacted"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	defer cl.Close()
	end, err := nodetest.Admin(t, n).ListEndOffsets(ctx, "compacted")
	if err != nil {
		t.Fatal(err)
	}
	hw := end["compacted"][0].Offset
	got := map[string]string{}
	count := 0
	for last := int64(-1); last < hw-1; {
		fs := cl.PollFetches(ctx)
		if err := fs.Err(); err != nil {
			t.Fatal(err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			count++
			last = r.Offset
			if r.Value == nil {
				delete(got, string(r.Key))
			} else {
				got[string(r.Key)] = string(r.Value)
			}
		})
	}
	return got, count
}

func ptrTo(s string) *string { return &s }
