package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-io/sluice/tests/brokerproc"
)

// onSmallDisk runs a broker with its log.dirs on a tmpfs of size bytes,
// mounted in a mount namespace of its own (unshare; the mount ends with
// the process).
func onSmallDisk(t *testing.T, size int) (wrap []string, logDirs string) {
	t.Helper()
	dir := t.TempDir()
	script := fmt.Sprintf(`mount -t tmpfs -o size=%d tmpfs "$0" && exec "$@"`, size)
	return []string{"unshare", "-rm", "sh", "-c", script, dir}, filepath.Join(dir, "data")
}

// TestClusterFollowerDiskFull: three brokers, a partition on all three
// (min.insync.replicas 2) whose follower 3 keeps its log on a 4 MiB disk.
// An idempotent acks=all producer writes 12 MiB: the follower's disk
// fills, it falls behind and leaves the ISR, the leader keeps taking
// records from the two in sync, and every acknowledged record is read
// back exactly once.
func TestClusterFollowerDiskFull(t *testing.T) {
	t.Parallel()
	ctl := startBroker(t, "broker.session.timeout.ms=3000", "replica.lag.time.max.ms=2000", "min.insync.replicas=2")
	b2 := brokerproc.Start(t, sluiceBin, brokerproc.Options{FollowController: ctl.Broker, NodeID: 2,
		Settings: []string{"broker.heartbeat.interval.ms=300"}, StartTimeout: 20 * time.Second})
	wrap, logDirs := onSmallDisk(t, 4<<20)
	b3 := brokerproc.Start(t, sluiceBin, brokerproc.Options{FollowController: ctl.Broker, NodeID: 3, Wrap: wrap,
		Settings: []string{"broker.heartbeat.interval.ms=300", "log.dirs=" + logDirs}, StartTimeout: 20 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(ctl.Addr, b2.Addr), kgo.DefaultProduceTopic("full"),
		kgo.RequiredAcks(kgo.AllISRAcks()), kgo.MetadataMinAge(250*time.Millisecond),
		kgo.ProducerBatchCompression(kgo.NoCompression())) // 12 MB on the wire and on disk
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	createAssignedPartitions(ctx, t, cl, "full", []int32{1, 2, 3})

	const total = 12_000
	value := make([]byte, 1000)
	var mu sync.Mutex
	acked := make([]int64, total)
	failed := 0
	var wg sync.WaitGroup
	for i := range total {
		v := append([]byte(strconv.Itoa(i)+":"), value...)
		wg.Add(1)
		cl.Produce(ctx, &kgo.Record{Value: v}, func(r *kgo.Record, err error) {
			defer wg.Done()
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failed++
				return
			}
			acked[i] = r.Offset
		})
	}
	wg.Wait()
	if failed > 0 {
		t.Fatalf("%d of %d records failed with the producer's retries", failed, total)
	}
	// The follower leaves the ISR once it has not caught up for
	// replica.lag.time.max.ms (2 s).
	for {
		td, err := kadm.NewClient(cl).ListTopics(ctx, "full")
		if err != nil {
			t.Fatal(err)
		}
		p := td["full"].Partitions[0]
		if p.Leader != 1 {
			t.Fatalf("leader %d after the follower's disk filled, want 1", p.Leader)
		}
		if !slices.Contains(p.ISR, 3) && len(p.ISR) == 2 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("ISR %v: follower 3, its disk full, never left it", p.ISR)
		case <-time.After(100 * time.Millisecond): // the leader's ISR check in another process: no event to wait on
		}
	}
	ccl, err := kgo.NewClient(kgo.SeedBrokers(ctl.Addr), kgo.ConsumeTopics("full"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer ccl.Close()
	seen := make([]int, total)
	read := 0
	for read < total {
		fs := ccl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("read %d of %d records: %v", read, total, err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			var i int
			if _, err := fmt.Sscanf(string(r.Value), "%d:", &i); err != nil || i < 0 || i >= total {
				t.Fatalf("record at %d holds %.20q", r.Offset, r.Value)
			}
			if seen[i]++; seen[i] > 1 || acked[i] != r.Offset {
				t.Fatalf("record %d at offset %d (acknowledged at %d, seen %d times)", i, r.Offset, acked[i], seen[i])
			}
			read++
		})
	}
	t.Logf("follower 3 alive after its disk filled: %v; its log ends:\n%s", b3.Alive(), b3.Tail(1500))
}
