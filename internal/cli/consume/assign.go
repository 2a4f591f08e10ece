package consume

import (
	"context"
	"fmt"
	"slices"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/sluice-io/sluice/internal/cli/clientcmd"
)

// assignment is where a group-less consumer starts each partition, and
// each partition's high watermark when consuming began (for --exit-at-end).
type assignment struct {
	start map[int32]int64
	end   map[int32]int64
}

// assign resolves off to an exact start offset on each of partitions (all
// of the topic's when empty), from the log start offsets, the high
// watermarks and, for a timestamp, the offsets listed for it.
func assign(ctx context.Context, adm *kadm.Client, td kadm.TopicDetail, partitions []int32, off Offset) (assignment, error) {
	if len(partitions) == 0 {
		partitions = td.Partitions.Numbers()
	}
	for _, p := range partitions {
		if err := clientcmd.CheckPartition(td, p); err != nil {
			return assignment{}, err
		}
	}
	starts, ends, times, err := listOffsets(ctx, adm, td.Topic, off)
	if err != nil {
		return assignment{}, err
	}
	a := assignment{start: make(map[int32]int64), end: make(map[int32]int64)}
	for _, p := range slices.Compact(slices.Sorted(slices.Values(partitions))) {
		s, err := lookup(starts, td.Topic, p)
		if err != nil {
			return assignment{}, err
		}
		e, err := lookup(ends, td.Topic, p)
		if err != nil {
			return assignment{}, err
		}
		at := int64(-1)
		if times != nil {
			if at, err = lookup(times, td.Topic, p); err != nil {
				return assignment{}, err
			}
		}
		a.start[p], a.end[p] = off.resolve(s, e, at), e
	}
	return a, nil
}

// listOffsets lists the log start offsets and high watermarks of topic and,
// when off is a timestamp, the first offsets at or after it (else nil).
func listOffsets(ctx context.Context, adm *kadm.Client, topic string, off Offset) (starts, ends, times kadm.ListedOffsets, err error) {
	if starts, err = adm.ListStartOffsets(ctx, topic); err != nil {
		return nil, nil, nil, fmt.Errorf("list log start offsets of topic %q: %w", topic, err)
	}
	if ends, err = adm.ListEndOffsets(ctx, topic); err != nil {
		return nil, nil, nil, fmt.Errorf("list high watermarks of topic %q: %w", topic, err)
	}
	if off.Kind == OffsetTimestamp {
		if times, err = adm.ListOffsetsAfterMilli(ctx, off.N, topic); err != nil {
			return nil, nil, nil, fmt.Errorf("list offsets of topic %q after @%d: %w", topic, off.N, err)
		}
	}
	return starts, ends, times, nil
}

func lookup(l kadm.ListedOffsets, topic string, p int32) (int64, error) {
	o, ok := l.Lookup(topic, p)
	switch {
	case !ok:
		return 0, fmt.Errorf("list offsets of topic %q: no answer for partition %d", topic, p)
	case o.Err != nil:
		return 0, fmt.Errorf("list offsets of partition %d: %w", p, clientcmd.TopicError(topic, o.Err, ""))
	}
	return o.Offset, nil
}
