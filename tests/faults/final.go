package faults

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// ReadAll reads every partition of topic from its start to its end as
// the cluster holds it now (after the faults are healed), once
// read_uncommitted (History.Final, and the trace of its transactional
// batches and markers) and once read_committed (History.FinalCommitted).
func ReadAll(ctx context.Context, bootstrap []string, topic string) (final, committed map[int32][]Read, trace Trace, err error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap...))
	if err != nil {
		return nil, nil, nil, err
	}
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	cl.Close()
	if err != nil {
		return nil, nil, nil, fmt.Errorf("end offsets: %w", err)
	}
	end := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) { end[o.Partition] = o.Offset })
	trace = Trace{}
	if final, err = readTo(ctx, bootstrap, topic, end, kgo.ReadUncommitted(), trace); err != nil {
		return nil, nil, trace, err
	}
	if committed, err = readTo(ctx, bootstrap, topic, end, kgo.ReadCommitted(), nil); err != nil {
		return nil, nil, trace, err
	}
	return final, committed, trace, nil
}

// Trace is, by partition in offset order, every transactional record of
// a final read: data records and the COMMIT and ABORT markers, with
// their producer id and epoch. Printed around a missing committed record
// it shows which marker ended its transaction.
type Trace map[int32][]TraceEntry

// TraceEntry is one transactional record.
type TraceEntry struct {
	Offset     int64
	ProducerID int64
	Epoch      int16
	What       string // the value, or COMMIT or ABORT
}

// Around prints partition p's entries within n entries of offset.
func (t Trace) Around(p int32, offset int64, n int) string {
	es := t[p]
	i, _ := slices.BinarySearchFunc(es, offset, func(e TraceEntry, o int64) int { return cmp.Compare(e.Offset, o) })
	var b strings.Builder
	for _, e := range es[max(0, i-n):min(len(es), i+n+1)] {
		mark := " "
		if e.Offset == offset {
			mark = ">"
		}
		fmt.Fprintf(&b, "%s %d/%d producer %d epoch %d %s\n", mark, p, e.Offset, e.ProducerID, e.Epoch, e.What)
	}
	return b.String()
}

// controlType names a control record's type from its key: version, then
// type (0 ABORT, 1 COMMIT).
func controlType(key []byte) string {
	switch {
	case len(key) < 4:
		return "CONTROL?"
	case key[3] == 0 && key[2] == 0:
		return "ABORT"
	case key[3] == 1 && key[2] == 0:
		return "COMMIT"
	}
	return fmt.Sprintf("CONTROL(%d)", int16(key[2])<<8|int16(key[3]))
}

// readTo reads each partition until the record before end; control
// records (transaction markers) are read to know where it is and left
// out. Read committed, the wait lasts until every transaction below end
// has ended (the coordinator aborts one whose producer vanished).
func readTo(ctx context.Context, bootstrap []string, topic string, end map[int32]int64, iso kgo.IsolationLevel, trace Trace) (map[int32][]Read, error) {
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
			if r.Offset >= end[r.Partition] {
				return
			}
			if trace != nil && r.Attrs.IsTransactional() {
				what := string(r.Value)
				if r.Attrs.IsControl() {
					what = controlType(r.Key)
				}
				trace[r.Partition] = append(trace[r.Partition], TraceEntry{r.Offset, r.ProducerID, r.ProducerEpoch, what})
			}
			if r.Attrs.IsControl() {
				return
			}
			out[r.Partition] = append(out[r.Partition], Read{Consumer: "final", Partition: r.Partition, Offset: r.Offset,
				Value: string(r.Value), ReadCommitted: committed})
		})
	}
	return out, nil
}
