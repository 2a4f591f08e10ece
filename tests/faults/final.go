package faults

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// ReadAll reads every partition of topic from its start to its end as
// the cluster holds it now (after the faults are healed), once
// read_uncommitted (History.Final) and once read_committed
// (History.FinalCommitted).
func ReadAll(ctx context.Context, bootstrap []string, topic string) (final, committed map[int32][]Read, err error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap...))
	if err != nil {
		return nil, nil, err
	}
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	cl.Close()
	if err != nil {
		return nil, nil, fmt.Errorf("end offsets: %w", err)
	}
	end := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) { end[o.Partition] = o.Offset })
	if final, err = readTo(ctx, bootstrap, topic, end, kgo.ReadUncommitted()); err != nil {
		return nil, nil, err
	}
	if committed, err = readTo(ctx, bootstrap, topic, end, kgo.ReadCommitted()); err != nil {
		return nil, nil, err
	}
	return final, committed, nil
}

// readTo reads each partition until the record before end; control
// records (transaction markers) are read to know where it is and left
// out. Read committed, the wait lasts until every transaction below end
// has ended (the coordinator aborts one whose producer vanished).
func readTo(ctx context.Context, bootstrap []string, topic string, end map[int32]int64, iso kgo.IsolationLevel) (map[int32][]Read, error) {
	offsets := map[string]map[int32]kgo.Offset{topic: {}}
	for p := range end {
		offsets[topic][p] = kgo.NewOffset().AtStart()
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap...), kgo.ConsumePartitions(offsets), kgo.FetchIsolationLevel(iso),
		kgo.KeepControlRecords(), kgo.MetadataMinAge(250*time.Millisecond))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	out := map[int32][]Read{}
	next := map[int32]int64{} // the offset after the last record read
	done := func() bool {
		for p, e := range end {
			if next[p] < e {
				return false
			}
		}
		return true
	}
	committed := iso == kgo.ReadCommitted()
	for !done() {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("read %s to %v (read committed %v): at %v: %w", topic, end, committed, next, err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			next[r.Partition] = r.Offset + 1
			if r.Offset >= end[r.Partition] || r.Attrs.IsControl() {
				return
			}
			out[r.Partition] = append(out[r.Partition], Read{Consumer: "final", Partition: r.Partition, Offset: r.Offset,
				Value: string(r.Value), ReadCommitted: committed})
		})
	}
	return out, nil
}
