package group

import (
	"context"
	"fmt"
	"io"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/sluice-io/sluice/internal/cli/clientcmd"
)

// resolve turns tg into an offset per partition of topic, with Kafka's
// reset-offsets rules: an absolute offset outside the log is clamped to
// its start or end (with a warning on warn), a timestamp after the last
// record is the log end.
func resolve(ctx context.Context, adm *kadm.Client, topic string, parts []int32, tg target, warn io.Writer) (kadm.Offsets, error) {
	list := func(what string, fn func(context.Context, ...string) (kadm.ListedOffsets, error)) (kadm.ListedOffsets, error) {
		l, err := fn(ctx, topic)
		if err == nil {
			err = l.Error()
		}
		if err != nil {
			return nil, clientcmd.TopicError(topic, fmt.Errorf("list %s offsets: %w", what, err), "")
		}
		return l, nil
	}
	var starts, ends, at kadm.ListedOffsets
	var err error
	if tg.kind == toStart || tg.kind == toOffset {
		if starts, err = list("start", adm.ListStartOffsets); err != nil {
			return nil, err
		}
	}
	if tg.kind == toEnd || tg.kind == toOffset {
		if ends, err = list("end", adm.ListEndOffsets); err != nil {
			return nil, err
		}
	}
	if tg.kind == toTime {
		after := func(ctx context.Context, ts ...string) (kadm.ListedOffsets, error) {
			return adm.ListOffsetsAfterMilli(ctx, tg.millis, ts...)
		}
		if at, err = list("timestamp", after); err != nil {
			return nil, err
		}
	}
	var out kadm.Offsets
	for _, p := range parts {
		var off int64
		switch tg.kind {
		case toStart:
			off = lookup(starts, topic, p)
		case toEnd:
			off = lookup(ends, topic, p)
		case toTime:
			off = lookup(at, topic, p)
		case toOffset:
			off = clamp(tg.offset, lookup(starts, topic, p), lookup(ends, topic, p), topic, p, warn)
		}
		out.Add(kadm.Offset{Topic: topic, Partition: p, At: off, LeaderEpoch: -1})
	}
	return out, nil
}

// lookup is the listed offset of p; a partition the cluster did not list
// is 0 (listing errors were checked before).
func lookup(l kadm.ListedOffsets, topic string, p int32) int64 {
	o, _ := l.Lookup(topic, p)
	return o.Offset
}

func clamp(off, start, end int64, topic string, p int32, warn io.Writer) int64 {
	switch {
	case off < start:
		fmt.Fprintf(warn, "warning: offset %d of %s/%d is before the log start offset %d; using %d\n", off, topic, p, start, start)
		return start
	case off > end:
		fmt.Fprintf(warn, "warning: offset %d of %s/%d is past the log end offset %d; using %d\n", off, topic, p, end, end)
		return end
	}
	return off
}
