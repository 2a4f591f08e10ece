package group

import (
	"strconv"
	"strings"
	"time"

	"github.com/sluice-io/sluice/internal/cli/clientcmd"
)

// targetKind is where `group seek --to` moves the committed offsets.
type targetKind int

const (
	toStart  targetKind = iota // the log start offset (--to-earliest)
	toEnd                      // the log end offset (--to-latest)
	toOffset                   // an absolute offset, clamped to the log (--to-offset)
	toTime                     // the first offset at or after a timestamp (--to-datetime)
)

// target is a parsed --to value.
type target struct {
	kind   targetKind
	offset int64 // toOffset
	millis int64 // toTime: Unix milliseconds
}

// parseTarget reads --to: start, end, an offset, or @ followed by Unix
// milliseconds or an RFC 3339 time.
func parseTarget(s string) (target, error) {
	switch s = strings.TrimSpace(s); {
	case s == "":
		return target{}, clientcmd.Usagef("--to is required: start, end, an offset, or @timestamp")
	case strings.EqualFold(s, "start"), strings.EqualFold(s, "earliest"), strings.EqualFold(s, "beginning"):
		return target{kind: toStart}, nil
	case strings.EqualFold(s, "end"), strings.EqualFold(s, "latest"):
		return target{kind: toEnd}, nil
	case strings.HasPrefix(s, "@"):
		ts := s[1:]
		if ms, err := strconv.ParseInt(ts, 10, 64); err == nil && ms >= 0 {
			return target{kind: toTime, millis: ms}, nil
		}
		if tm, err := time.Parse(time.RFC3339Nano, ts); err == nil {
			return target{kind: toTime, millis: tm.UnixMilli()}, nil
		}
		return target{}, clientcmd.Usagef("--to %q: after @ want Unix milliseconds (@1700000000000) or an RFC 3339 time (@2024-05-01T12:00:00Z)", s)
	}
	off, err := strconv.ParseInt(s, 10, 64)
	if err != nil || off < 0 {
		return target{}, clientcmd.Usagef("--to %q: want start, end, an offset >= 0, or @timestamp", s)
	}
	return target{kind: toOffset, offset: off}, nil
}
