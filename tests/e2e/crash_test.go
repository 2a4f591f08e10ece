package e2e

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestKill9KeepsAcknowledgedRecords kills the broker with SIGKILL in the
// middle of a produce load, restarts it over the same data, and checks
// that every acknowledged record is there, at the offset it was
// acknowledged with, exactly once: with acks=1 on a topic with
// flush.messages=1 (fsyncs in the append path), and with acks=all on a
// broker whose sync rounds are shared syncfs calls
// (sluice.fsync.scope=filesystem).
func TestKill9KeepsAcknowledgedRecords(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		settings []string
		topic    map[string]*string
		acks     kgo.Acks
	}{
		{"flush.messages=1 acks=1", nil, map[string]*string{"flush.messages": ptr("1")}, kgo.LeaderAck()},
		{"fsync.scope=filesystem acks=all", []string{"sluice.fsync.scope=filesystem"}, nil, kgo.AllISRAcks()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			testKill9KeepsAcknowledged(t, startBroker(t, tc.settings...), tc.topic, tc.acks)
		})
	}
}

func testKill9KeepsAcknowledged(t *testing.T, b *broker, topicConfigs map[string]*string, acks kgo.Acks) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	adm := newAdmin(t, b)
	resp, err := adm.CreateTopic(ctx, 3, 1, topicConfigs, "crash")
	if err != nil || resp.Err != nil {
		t.Fatalf("create topic: %v %v", err, resp.Err)
	}

	type ack struct {
		partition int32
		offset    int64
	}
	var mu sync.Mutex
	acked := map[string]ack{}
	prod, err := kgo.NewClient(kgo.SeedBrokers(b.Addr), kgo.DefaultProduceTopic("crash"),
		kgo.RequiredAcks(acks), kgo.DisableIdempotentWrite(),
		kgo.RecordRetries(0), kgo.ProducerLinger(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	const killAfter = 3000
	killed := make(chan struct{})
	var once sync.Once
	go func() {
		for i := 0; ; i++ {
			select {
			case <-killed:
				return
			default:
			}
			prod.Produce(ctx, &kgo.Record{Value: []byte(strconv.Itoa(i))}, func(r *kgo.Record, err error) {
				if err != nil {
					return
				}
				mu.Lock()
				acked[string(r.Value)] = ack{r.Partition, r.Offset}
				n := len(acked)
				mu.Unlock()
				if n >= killAfter {
					once.Do(func() { close(killed) })
				}
			})
		}
	}()
	select {
	case <-killed:
	case <-ctx.Done():
		t.Fatal("no acknowledgements before the deadline")
	}
	b.kill9()
	mu.Lock()
	want := make(map[string]ack, len(acked))
	for k, v := range acked {
		want[k] = v
	}
	mu.Unlock()
	prod.Close()

	b.restart()
	cons, err := kgo.NewClient(kgo.SeedBrokers(b.Addr), kgo.ConsumeTopics("crash"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	ends, err := newAdmin(t, b).ListEndOffsets(ctx, "crash")
	if err != nil {
		t.Fatal(err)
	}
	total := int64(0)
	ends.Each(func(o kadm.ListedOffset) { total += o.Offset })
	if total < int64(len(want)) {
		t.Fatalf("log holds %d records after restart, %d were acknowledged", total, len(want))
	}
	seen := map[string]bool{}
	for read := int64(0); read < total; {
		fs := cons.PollFetches(ctx)
		if err := fs.Err(); err != nil {
			t.Fatalf("consume after restart: %v", err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			read++
			v := string(r.Value)
			if seen[v] {
				t.Errorf("record %s stored twice", v)
			}
			seen[v] = true
			if a, ok := want[v]; ok && (a.partition != r.Partition || a.offset != r.Offset) {
				t.Errorf("record %s acknowledged at %d/%d, found at %d/%d", v, a.partition, a.offset, r.Partition, r.Offset)
			}
		})
	}
	for v := range want {
		if !seen[v] {
			t.Errorf("acknowledged record %s lost", v)
		}
	}
	t.Logf("%d acknowledged, %d stored after kill -9", len(want), total)
}

func newAdmin(t *testing.T, b *broker) *kadm.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}

func ptr(s string) *string { return &s }
