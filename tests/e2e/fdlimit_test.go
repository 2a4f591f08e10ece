package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestManyPartitionsUnderLowDescriptorLimit runs sluice serve under
// prlimit --nofile=400 and gives it 1,200 partitions, which would take
// 3,600 descriptors if every partition kept its files open (as Kafka and
// Sluice before issue 13, defect 6 did: the broker then stopped
// answering and could not start on its data again). Creating them,
// writing to and reading every one, a clean restart and a restart after
// kill -9 all work, and the broker keeps answering throughout.
func TestManyPartitionsUnderLowDescriptorLimit(t *testing.T) {
	t.Parallel()
	prlimit, err := exec.LookPath("prlimit")
	if err != nil {
		t.Skip("prlimit (util-linux) is not installed")
	}
	const nofile, parts = 400, 1200
	b := startBrokerUnder(t, []string{prlimit, fmt.Sprintf("--nofile=%d:%d", nofile, nofile), "--"},
		"sluice.log.idle.close.ms=1000")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	t0 := time.Now()
	// A Chunk keeps its file open file.delete.delay.ms: a second (not the
	// default minute) lets a consumer of every partition take turns with
	// the descriptors.
	resp, err := newAdmin(t, b).CreateTopic(ctx, parts, 1, map[string]*string{"file.delete.delay.ms": ptr("1000")}, "fd")
	if err != nil || resp.Err != nil {
		t.Fatalf("create %d partitions: %v %v\n%s", parts, err, resp.Err, b.Log())
	}
	step := t0
	took := func(what string) {
		t.Logf("%s: %v", what, time.Since(step).Round(time.Millisecond))
		step = time.Now()
	}
	took("create")
	writeEach(ctx, t, b, "fd", parts, "a")
	readEach(ctx, t, b, "fd", parts, "a")
	took("write and read")

	b.stop()
	b.restart()
	readEach(ctx, t, b, "fd", parts, "a")
	took("clean restart and read")

	writeEach(ctx, t, b, "fd", parts, "b")
	b.kill9()
	b.restart()
	readEach(ctx, t, b, "fd", parts, "a", "b")
	took("write, kill -9, restart and read")
	if n, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", b.Pid())); err == nil {
		t.Logf("broker holds %d descriptors after reading %d partitions", len(n), parts)
	}
	if strings.Contains(b.Log(), "listener stopped") {
		t.Errorf("the listener stopped:\n%s", b.Log())
	}
}

// writeEach writes the record prefix-<p> to every partition p (acks=1).
func writeEach(ctx context.Context, t *testing.T, b *broker, topic string, parts int32, prefix string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr), kgo.DefaultProduceTopic(topic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	recs := make([]*kgo.Record, parts)
	for p := range parts {
		recs[p] = &kgo.Record{Partition: p, Value: fmt.Appendf(nil, "%s-%d", prefix, p)}
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce to every partition: %v\n%s", err, b.Log())
	}
}

// readEach reads every partition from its start until each holds the
// records prefix-<p> of prefixes, in order. Fetch errors are retried (a
// partition out of descriptors answers KAFKA_STORAGE_ERROR and serves
// again later); the records must come eventually.
func readEach(ctx context.Context, t *testing.T, b *broker, topic string, parts int32, prefixes ...string) {
	t.Helper()
	// Small responses, each read quickly; a partition that answers
	// KAFKA_STORAGE_ERROR (its Chunks' files still held) is retried after
	// a short metadata refresh rather than franz-go's default 5 s.
	cons, err := kgo.NewClient(kgo.SeedBrokers(b.Addr), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxBytes(4<<10),
		kgo.MetadataMinAge(100*time.Millisecond), kgo.FetchMaxWait(500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	got := make(map[int32][]string, parts)
	n, errs := 0, 0
	for n < int(parts)*len(prefixes) {
		fs := cons.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d records (%d fetch errors) before the deadline\n%s", n, int(parts)*len(prefixes), errs, b.Log())
		}
		fs.EachError(func(_ string, _ int32, err error) { errs++ })
		fs.EachRecord(func(r *kgo.Record) {
			got[r.Partition] = append(got[r.Partition], string(r.Value))
			n++
		})
	}
	for p := range parts {
		var want []string
		for _, pre := range prefixes {
			want = append(want, fmt.Sprintf("%s-%d", pre, p))
		}
		if fmt.Sprint(got[p]) != fmt.Sprint(want) {
			t.Fatalf("partition %d holds %v, want %v", p, got[p], want)
		}
	}
	t.Logf("read %d records of %d partitions, %d fetch errors retried", n, parts, errs)
}
