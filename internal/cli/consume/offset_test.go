package consume

import (
	"testing"

	"github.com/sluice-io/sluice/internal/cli/clientcmd"
)

func TestParseOffset(t *testing.T) {
	tests := []struct {
		in   string
		want Offset
		ok   bool
	}{
		{"start", Offset{Kind: OffsetStart}, true},
		{"earliest", Offset{Kind: OffsetStart}, true},
		{"end", Offset{Kind: OffsetEnd}, true},
		{"latest", Offset{Kind: OffsetEnd}, true},
		{"0", Offset{Kind: OffsetExact, N: 0}, true},
		{"42", Offset{Kind: OffsetExact, N: 42}, true},
		{"@1700000000000", Offset{Kind: OffsetTimestamp, N: 1700000000000}, true},
		{"-10", Offset{Kind: OffsetFromEnd, N: 10}, true},
		{"-0", Offset{}, false},
		{"--1", Offset{}, false},
		{"+5", Offset{}, false},
		{"@", Offset{}, false},
		{"@-5", Offset{}, false},
		{"", Offset{}, false},
		{"oldest", Offset{}, false},
		{"1.5", Offset{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseOffset(tt.in)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !clientcmd.IsUsage(err) {
				t.Errorf("error %v is not a UsageError", err)
			}
			if got != tt.want {
				t.Errorf("ParseOffset(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestOffsetResolve(t *testing.T) {
	const start, end = 10, 20 // the log holds offsets 10..19
	tests := []struct {
		off    Offset
		atTime int64
		want   int64
	}{
		{Offset{Kind: OffsetStart}, -1, 10},
		{Offset{Kind: OffsetEnd}, -1, 20},
		{Offset{Kind: OffsetExact, N: 15}, -1, 15},
		{Offset{Kind: OffsetExact, N: 3}, -1, 10},
		{Offset{Kind: OffsetExact, N: 99}, -1, 20},
		{Offset{Kind: OffsetFromEnd, N: 3}, -1, 17},
		{Offset{Kind: OffsetFromEnd, N: 50}, -1, 10},
		{Offset{Kind: OffsetTimestamp, N: 5}, 12, 12},
		{Offset{Kind: OffsetTimestamp, N: 5}, -1, 20},
	}
	for _, tt := range tests {
		if got := tt.off.resolve(start, end, tt.atTime); got != tt.want {
			t.Errorf("%+v.resolve(%d, %d, %d) = %d, want %d", tt.off, start, end, tt.atTime, got, tt.want)
		}
	}
}
