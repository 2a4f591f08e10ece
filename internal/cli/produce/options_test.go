package produce

import (
	"strings"
	"testing"
	"time"

	"github.com/sluice-io/sluice/internal/cli/clientcmd"
)

func validOptions() options {
	return options{partition: -1, acks: "all", compression: "snappy", linger: 10 * time.Millisecond}
}

func TestResolveErrors(t *testing.T) {
	tests := []struct {
		name     string
		change   func(*options)
		contains string
	}{
		{"acks", func(o *options) { o.acks = "2" }, `--acks "2": want 0, 1 or all`},
		{"compression", func(o *options) { o.compression = "brotli" }, `--compression "brotli": want none, gzip, snappy, lz4 or zstd`},
		{"linger", func(o *options) { o.linger = -time.Second }, "--linger"},
		{"partition", func(o *options) { o.partition = -2 }, "--partition -2"},
		{"header", func(o *options) { o.headers = []string{"novalue"} }, `--header "novalue"`},
		{"format and key-delim", func(o *options) { o.format, o.keyDelim = "%v", ":" }, "--format and --key-delim"},
		{"bad key-delim escape", func(o *options) { o.keyDelim = `\q` }, "--key-delim"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := validOptions()
			tt.change(&o)
			_, err := o.resolve()
			if !clientcmd.IsUsage(err) || !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("err = %v, want a UsageError containing %q", err, tt.contains)
			}
		})
	}
}

func TestResolveValid(t *testing.T) {
	for _, acks := range []string{"0", "1", "all", "-1"} {
		for _, c := range []string{"none", "gzip", "snappy", "lz4", "zstd"} {
			o := validOptions()
			o.acks, o.compression = acks, c
			if _, err := o.resolve(); err != nil {
				t.Errorf("--acks %s --compression %s: %v", acks, c, err)
			}
		}
	}
}

func TestKeyDelim(t *testing.T) {
	tests := []struct {
		delim, rec, key, value string
	}{
		{":", "k:v:w", "k", "v:w"},
		{`\t`, "k\tv", "k", "v"},
		{"%", "k%v", "k", "v"},
		{`\\`, `k\v`, "k", "v"},
		{"::", "a:b::c", "a:b", "c"},
	}
	for _, tt := range tests {
		t.Run(tt.delim, func(t *testing.T) {
			o := validOptions()
			o.keyDelim = tt.delim
			p, err := o.resolve()
			if err != nil {
				t.Fatal(err)
			}
			parts, err := p.format.Split([]byte(tt.rec))
			if err != nil {
				t.Fatal(err)
			}
			if string(parts.key) != tt.key || string(parts.value) != tt.value {
				t.Errorf("split %q = %q/%q, want %q/%q", tt.rec, parts.key, parts.value, tt.key, tt.value)
			}
		})
	}
}
