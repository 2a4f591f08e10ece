package config

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseProperties(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []Property // Line checked only where set
	}{
		{"equals", "a=b", []Property{{Key: "a", Value: "b"}}},
		{"colon", "a:b", []Property{{Key: "a", Value: "b"}}},
		{"space separator", "a b", []Property{{Key: "a", Value: "b"}}},
		{"spaces around equals", "  a  =  b", []Property{{Key: "a", Value: "b"}}},
		{"space then colon", "a : b", []Property{{Key: "a", Value: "b"}}},
		{"tab separator", "a\tb", []Property{{Key: "a", Value: "b"}}},
		{"second equals is value", "a==b", []Property{{Key: "a", Value: "=b"}}},
		{"space equals equals", "a = =b", []Property{{Key: "a", Value: "=b"}}},
		{"trailing space kept", "a=b  ", []Property{{Key: "a", Value: "b  "}}},
		{"empty value", "a=", []Property{{Key: "a", Value: ""}}},
		{"key only", "a", []Property{{Key: "a", Value: ""}}},
		{"hash comment", "# x=y\na=b", []Property{{Key: "a", Value: "b"}}},
		{"bang comment", "  ! x=y\na=b", []Property{{Key: "a", Value: "b"}}},
		{"hash inside value", "a=b#c", []Property{{Key: "a", Value: "b#c"}}},
		{"blank lines", "\n\n   \n\ta=b\n\n", []Property{{Key: "a", Value: "b"}}},
		{"continuation", "a=b\\\n   c", []Property{{Key: "a", Value: "bc"}}},
		{"continuation list", "listeners=PLAINTEXT://:9092,\\\n  CONTROLLER://:9093",
			[]Property{{Key: "listeners", Value: "PLAINTEXT://:9092,CONTROLLER://:9093"}}},
		{"escaped backslash is no continuation", "a=b\\\\\nc=d", []Property{{Key: "a", Value: `b\`}, {Key: "c", Value: "d"}}},
		{"continuation at EOF", "a=b\\", []Property{{Key: "a", Value: "b"}}},
		{"comment does not continue", "# c \\\na=b", []Property{{Key: "a", Value: "b"}}},
		{"escaped colon and equals in key", `a\:b\=c=d`, []Property{{Key: "a:b=c", Value: "d"}}},
		{"escaped space in key", `a\ b=c`, []Property{{Key: "a b", Value: "c"}}},
		{"escapes in value", `a=x\ty\nz\\w\:`, []Property{{Key: "a", Value: "x\ty\nz\\w:"}}},
		{"unicode escape", `a=caf\u00e9`, []Property{{Key: "a", Value: "café"}}},
		{"surrogate pair", `a=\uD83D\uDE00`, []Property{{Key: "a", Value: "😀"}}},
		{"utf8 text", "a=café", []Property{{Key: "a", Value: "café"}}},
		{"CRLF", "a=b\r\nc=d\r\n", []Property{{Key: "a", Value: "b"}, {Key: "c", Value: "d"}}},
		{"CR only", "a=b\rc=d", []Property{{Key: "a", Value: "b"}, {Key: "c", Value: "d"}}},
		{"continuation over CRLF", "a=b\\\r\n c", []Property{{Key: "a", Value: "bc"}}},
		{"duplicates kept in order", "a=1\na=2", []Property{{Key: "a", Value: "1"}, {Key: "a", Value: "2"}}},
		{"line numbers", "# c\n\na=1\nb=2\\\n 3\nc=4",
			[]Property{{Key: "a", Value: "1", Line: 3}, {Key: "b", Value: "23", Line: 4}, {Key: "c", Value: "4", Line: 6}}},
		{"empty input", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseProperties(strings.NewReader(tt.in))
			if err != nil {
				t.Fatalf("ParseProperties: %v", err)
			}
			for i := range tt.want {
				if tt.want[i].Line == 0 && i < len(got) {
					got[i].Line = 0
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParsePropertiesErrors(t *testing.T) {
	tests := []struct{ name, in, wantErr string }{
		{"short unicode escape", "a=\\u12", "line 1: malformed"},
		{"bad hex", "x=1\na=\\uZZZZ", "line 2: malformed"},
		{"invalid utf8", "a=\xff", "not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseProperties(strings.NewReader(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
			}
		})
	}
}

func FuzzParseProperties(f *testing.F) {
	for _, s := range []string{"a=b", "a\\\n b", "# c\n!d\n", `k\:=\u00e9\uD83D\uDE00`, "a b c\r\nd:e\rf", "\\", "a=\\u"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		props, err := ParseProperties(strings.NewReader(s))
		if err != nil {
			return
		}
		for _, p := range props {
			if p.Line < 1 {
				t.Fatalf("line %d < 1 for %q", p.Line, p.Key)
			}
		}
	})
}
