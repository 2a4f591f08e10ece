package produce

import (
	"strings"
	"testing"

	"github.com/sluice-io/sluice/internal/cli/clientcmd"
)

func TestFormatSplit(t *testing.T) {
	tests := []struct {
		format, delim string
		rec           string // one record, without its delimiter
		key, value    string
		headers       string
		splitErr      bool
	}{
		{format: `%v\n`, delim: "\n", rec: "hello world", value: "hello world"},
		{format: `%v`, delim: "\n", rec: "x", value: "x"},
		{format: `%k %v\n`, delim: "\n", rec: "k1 some value", key: "k1", value: "some value"},
		{format: `%k %v`, delim: "\n", rec: "no-delimiter", splitErr: true},
		{format: `%k\t%h\t%v\n`, delim: "\n", rec: "k\ta=1;b=2\tv", key: "k", value: "v", headers: "a=1;b=2"},
		{format: `[%k] %v;;`, delim: ";;", rec: "[key] val", key: "key", value: "val"},
		{format: `[%k] %v;;`, delim: ";;", rec: "key val", splitErr: true},
		{format: `%v|%k\r\n`, delim: "\r\n", rec: "value|key", key: "key", value: "value"},
		{format: `%k%%%v\n`, delim: "\n", rec: "a%b%c", key: "a", value: "b%c"},
		{format: `%k %v\n`, delim: "\n", rec: " v", key: "", value: "v"},
	}
	for _, tt := range tests {
		t.Run(tt.format+"/"+tt.rec, func(t *testing.T) {
			f, err := ParseFormat("--format", tt.format)
			if err != nil {
				t.Fatal(err)
			}
			if got := string(f.Delimiter()); got != tt.delim {
				t.Errorf("Delimiter = %q, want %q", got, tt.delim)
			}
			p, err := f.Split([]byte(tt.rec))
			if (err != nil) != tt.splitErr {
				t.Fatalf("Split err = %v, want error %v", err, tt.splitErr)
			}
			if err != nil {
				return
			}
			if string(p.key) != tt.key || string(p.value) != tt.value || string(p.headers) != tt.headers {
				t.Errorf("Split = key %q value %q headers %q, want %q %q %q",
					p.key, p.value, p.headers, tt.key, tt.value, tt.headers)
			}
		})
	}
}

func TestParseFormatErrors(t *testing.T) {
	tests := []struct{ format, contains string }{
		{`%k\n`, "no %v"},
		{`%k%v\n`, "directly follows"},
		{`%v %v\n`, "twice"},
		{`%x %v`, "unknown placeholder %x"},
		{`%v%`, "trailing %"},
		{`%v\q`, `unknown escape \q`},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			_, err := ParseFormat("--format", tt.format)
			if !clientcmd.IsUsage(err) {
				t.Fatalf("err = %v, want a UsageError", err)
			}
			if !strings.Contains(err.Error(), tt.contains) || !strings.Contains(err.Error(), "--format") {
				t.Errorf("error %q lacks %q or the flag name", err, tt.contains)
			}
		})
	}
}
