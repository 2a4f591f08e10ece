package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// measurePartitions creates -partitions partitions (topics of
// -topic-partitions, at most -request-partitions metadata records, a
// partition's or a topic's, per CreateTopics request: Kafka's cap is
// 10,000), writes one record to each
// (-partitions-write), then restarts the broker cleanly and after kill -9
// (-partitions-restart; one more record each before the kill). After
// each step it reports the broker's open
// descriptors, memory maps and RSS, and how long the step took; a
// restart is timed from exec to the first ApiVersions answer and to
// every partition answering ListOffsets with its end offset.
func measurePartitions(ctx context.Context, e *env, o *options) ([]row, error) {
	b, err := started(ctx, e)
	if err != nil {
		return nil, err
	}
	defer b.stopWithin(o.stopTimeout)
	var rows []row
	add := func(step string, took time.Duration) error {
		if err := sleepCtx(ctx, settle); err != nil {
			return err
		}
		r, err := b.resources(step)
		if err != nil {
			return err
		}
		if took > 0 {
			rows = append(rows, row{step + ": took", ms(took)})
		}
		rows = append(rows, r...)
		return nil
	}
	if err := add("started", 0); err != nil {
		return rows, err
	}
	topics, err := createPartitions(ctx, b.addr, o)
	rows = append(rows, row{fmt.Sprintf("create %d partitions (%d topics in %d CreateTopics requests)", o.partitions, len(topics.names), topics.requests), ms(topics.took)})
	if err != nil {
		return rows, err
	}
	if err := add("created", 0); err != nil {
		return rows, err
	}
	want := int64(0)
	if o.partitionsWrite {
		took, err := writeEveryPartition(ctx, b.addr, topics)
		if err != nil {
			return rows, err
		}
		want = 1
		if err := add("one record in each partition (acks=1)", took); err != nil {
			return rows, err
		}
	}
	if !o.partitionsRestart {
		return rows, nil
	}
	t0 := time.Now()
	if err := b.stopWithin(o.stopTimeout); err != nil {
		return rows, err
	}
	rows = append(rows, row{"clean stop (SIGTERM to exit)", ms(time.Since(t0))})
	for _, kill := range []bool{false, true} {
		name := "clean restart"
		if kill {
			name = "kill -9 restart"
			if o.partitionsWrite {
				// One more record each, so the restart recovers unflushed
				// appends in every partition.
				took, err := writeEveryPartition(ctx, b.addr, topics)
				if err != nil {
					return rows, err
				}
				want++
				if err := add("one more record in each partition", took); err != nil {
					return rows, err
				}
			}
			b.kill()
		}
		if err := b.start(ctx, e.bin); err != nil {
			return rows, fmt.Errorf("%s: %w", name, err)
		}
		t1 := time.Now()
		rows = append(rows, row{name + ": exec to first ApiVersions", ms(b.ready)})
		if err := waitServing(ctx, b.addr, topics, want); err != nil {
			return rows, fmt.Errorf("%s: %w", name, err)
		}
		rows = append(rows, row{name + ": exec to every partition serving", ms(b.ready + time.Since(t1))})
		if err := add(name, 0); err != nil {
			return rows, err
		}
	}
	return rows, nil
}

// createdTopics are the topics measurePartitions made.
type createdTopics struct {
	names    []string
	sizes    map[string]int32
	requests int
	took     time.Duration
}

func createPartitions(ctx context.Context, addr string, o *options) (createdTopics, error) {
	adm, cl, err := admin(addr)
	if err != nil {
		return createdTopics{}, err
	}
	defer cl.Close()
	// A topic costs one metadata record more than its partitions, and
	// Kafka's cap (10,000) counts records.
	per := int32(max(min(o.topicPartitions, o.requestPartitions-1), 1))
	topics := createdTopics{sizes: map[string]int32{}}
	for left := o.partitions; left > 0; {
		n := min(int32(left), per)
		topics.names = append(topics.names, fmt.Sprintf("scale-%d", len(topics.names)))
		topics.sizes[topics.names[len(topics.names)-1]] = n
		left -= int(n)
	}
	t0 := time.Now()
	// Topics of one size per request, as many as fit the request cap.
	for i := 0; i < len(topics.names); {
		n := topics.sizes[topics.names[i]]
		j := i
		for j < len(topics.names) && topics.sizes[topics.names[j]] == n && (j-i+1)*(int(n)+1) <= o.requestPartitions {
			j++
		}
		topics.requests++
		resp, err := adm.CreateTopics(ctx, n, 1, nil, topics.names[i:j]...)
		if err == nil {
			err = resp.Error()
		}
		if err != nil {
			topics.took = time.Since(t0)
			return topics, fmt.Errorf("create topics %s..%s: %w", topics.names[i], topics.names[j-1], err)
		}
		i = j
	}
	topics.took = time.Since(t0)
	return topics, nil
}

// writeEveryPartition produces one 100-byte record to every partition.
func writeEveryPartition(ctx context.Context, addr string, topics createdTopics) (time.Duration, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite(), kgo.ProducerLinger(5*time.Millisecond),
		kgo.RequestTimeoutOverhead(time.Minute))
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	value := bytes.Repeat([]byte("s"), 100)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	t0 := time.Now()
	for _, name := range topics.names {
		for p := range topics.sizes[name] {
			wg.Add(1)
			cl.Produce(ctx, &kgo.Record{Topic: name, Partition: p, Value: value}, func(_ *kgo.Record, err error) {
				defer wg.Done()
				if err != nil {
					mu.Lock()
					first = cmpOr(first, err)
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	return time.Since(t0), first
}

// waitServing polls until every partition answers ListOffsets with end
// offset want.
func waitServing(ctx context.Context, addr string, topics createdTopics, want int64) error {
	var last error
	for {
		last = allAt(ctx, addr, topics, want)
		if last == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("partitions never all served: %v", last)
		}
		if err := sleepCtx(ctx, 50*time.Millisecond); err != nil {
			return err
		}
	}
}

func allAt(ctx context.Context, addr string, topics createdTopics, want int64) error {
	adm, cl, err := admin(addr)
	if err != nil {
		return err
	}
	defer cl.Close()
	listed, err := adm.ListEndOffsets(ctx, topics.names...)
	if err != nil {
		return err
	}
	if err := listed.Error(); err != nil {
		return err
	}
	n := 0
	var bad error
	listed.Each(func(o kadm.ListedOffset) {
		n++
		if o.Offset != want && bad == nil {
			bad = fmt.Errorf("%s-%d at %d, want %d", o.Topic, o.Partition, o.Offset, want)
		}
	})
	total := 0
	for _, s := range topics.sizes {
		total += int(s)
	}
	if n != total {
		return fmt.Errorf("%d of %d partitions listed", n, total)
	}
	return bad
}

// resources reads the broker's open descriptors, memory maps and RSS.
func (b *broker) resources(step string) ([]row, error) {
	pid := b.cmd.Process.Pid
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return nil, err
	}
	maps, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", pid))
	if err != nil {
		return nil, err
	}
	rss, err := b.mem("VmRSS")
	if err != nil {
		return nil, err
	}
	hwm, err := b.mem("VmHWM")
	if err != nil {
		return nil, err
	}
	return []row{{step + ": descriptors, maps, VmRSS (VmHWM)",
		fmt.Sprintf("%d fds, %d maps, %s (%s)", len(fds), bytes.Count(maps, []byte{'\n'}), mib(rss), mib(hwm))}}, nil
}
