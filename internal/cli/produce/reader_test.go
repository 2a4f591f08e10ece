package produce

import (
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
)

func TestRecordReader(t *testing.T) {
	long := strings.Repeat("x", 200<<10) // longer than the read buffer
	tests := []struct {
		name, in, delim string
		want            []string
	}{
		{"lines", "a\nb\n", "\n", []string{"a", "b"}},
		{"no final newline", "a\nb", "\n", []string{"a", "b"}},
		{"empty lines kept", "a\n\nb\n", "\n", []string{"a", "", "b"}},
		{"empty input", "", "\n", nil},
		{"multi-byte delimiter", "a;b;;c;;d", ";;", []string{"a;b", "c", "d"}},
		{"delimiter split across reads", "a\r\nb\r\n", "\r\n", []string{"a", "b"}},
		{"long record", long + "\nz\n", "\n", []string{long, "z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rr := newRecordReader(strings.NewReader(tt.in), []byte(tt.delim))
			var got []string
			for {
				rec, err := rr.next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, string(rec))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("records = %q, want %q", trim(got), trim(tt.want))
			}
		})
	}
}

func trim(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		if len(s) > 20 {
			s = s[:20] + "..."
		}
		out[i] = s
	}
	return out
}
