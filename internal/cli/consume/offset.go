package consume

import (
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-io/sluice/internal/cli/clientcmd"
)

// OffsetKind says how an --offset value picks the first record.
type OffsetKind int

// The forms of --offset.
const (
	OffsetStart     OffsetKind = iota // "start": the log start offset
	OffsetEnd                         // "end": the high watermark (new records only)
	OffsetExact                       // "N": offset N
	OffsetTimestamp                   // "@ms": the first record at or after ms
	OffsetFromEnd                     // "-N": N records before the end
)

// Offset is a parsed --offset value. N is the offset, the timestamp in
// milliseconds or the distance from the end, by Kind.
type Offset struct {
	Kind OffsetKind
	N    int64
}

// ParseOffset parses an --offset value: start, end, N, @timestamp_ms or -N.
// "earliest" and "latest" (Kafka's auto.offset.reset words) are accepted
// for start and end.
func ParseOffset(s string) (Offset, error) {
	switch s {
	case "start", "earliest", "beginning":
		return Offset{Kind: OffsetStart}, nil
	case "end", "latest":
		return Offset{Kind: OffsetEnd}, nil
	}
	kind, digits := OffsetExact, s
	switch {
	case strings.HasPrefix(s, "@"):
		kind, digits = OffsetTimestamp, s[1:]
	case strings.HasPrefix(s, "-"):
		kind, digits = OffsetFromEnd, s[1:]
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n < 0 || digits[0] == '+' || (kind == OffsetFromEnd && n == 0) {
		return Offset{}, clientcmd.Usagef("--offset %q: want start, end, an offset N, @timestamp_ms, or -N (N records before the end)", s)
	}
	return Offset{Kind: kind, N: n}, nil
}

// kgo is the offset for a group consumer, used on partitions the group has
// no committed offset for.
func (o Offset) kgo() kgo.Offset {
	switch o.Kind {
	case OffsetEnd:
		return kgo.NewOffset().AtEnd()
	case OffsetExact:
		return kgo.NewOffset().At(o.N)
	case OffsetTimestamp:
		return kgo.NewOffset().AfterMilli(o.N)
	case OffsetFromEnd:
		return kgo.NewOffset().AtEnd().Relative(-o.N)
	}
	return kgo.NewOffset().AtStart()
}

// resolve is the exact first offset of a partition whose log spans
// [start, end) (end: the high watermark). atTime is the listed offset for a
// timestamp (-1: none at or after it). Offsets outside the log are clamped
// into it.
func (o Offset) resolve(start, end, atTime int64) int64 {
	switch o.Kind {
	case OffsetEnd:
		return end
	case OffsetExact:
		return min(max(o.N, start), end)
	case OffsetTimestamp:
		if atTime < 0 {
			return end
		}
		return min(max(atTime, start), end)
	case OffsetFromEnd:
		return max(end-o.N, start)
	}
	return start
}
