package consume

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-io/sluice/internal/cli/clientcmd"
)

func testRecord() *kgo.Record {
	return &kgo.Record{
		Topic: "orders", Partition: 3, Offset: 42,
		Timestamp: time.UnixMilli(1700000000123),
		Key:       []byte("k1"), Value: []byte("hello world"),
		Headers: []kgo.RecordHeader{{Key: "a", Value: []byte("1")}, {Key: "b", Value: []byte("")}},
	}
}

func TestFormatter(t *testing.T) {
	tests := []struct{ format, want string }{
		{`%v\n`, "hello world\n"},
		{`%p:%o %k=%v\n`, "3:42 k1=hello world\n"},
		{`%t/%p@%o`, "orders/3@42"},
		{`%d %T`, "1700000000123 2023-11-14T22:13:20.123Z"},
		{`%h|`, "a=1;b=|"},
		{`100%% %k\t%v`, "100% k1\thello world"},
		{`literal`, "literal"},
		{``, ""},
	}
	r := testRecord()
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			f, err := ParseFormat("--format", tt.format)
			if err != nil {
				t.Fatal(err)
			}
			if got := string(f.Append(nil, r)); got != tt.want {
				t.Errorf("Append = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFormatterNulls(t *testing.T) {
	f, err := ParseFormat("--format", `[%k][%v][%h]`)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(f.Append(nil, &kgo.Record{})); got != "[][][]" {
		t.Errorf("null record = %q, want [][][]", got)
	}
}

func TestFormatterErrors(t *testing.T) {
	for _, format := range []string{`%x`, `%v%`, `\q`} {
		if _, err := ParseFormat("--format", format); !clientcmd.IsUsage(err) || !strings.Contains(err.Error(), "--format") {
			t.Errorf("ParseFormat(%q) err = %v, want a UsageError naming --format", format, err)
		}
	}
}

func TestFormatterNoAllocs(t *testing.T) {
	f, err := ParseFormat("--format", `%t %p %o %d %T %k %v %h\n`)
	if err != nil {
		t.Fatal(err)
	}
	r := testRecord()
	buf := f.Append(nil, r)
	if n := testing.AllocsPerRun(100, func() { buf = f.Append(buf[:0], r) }); n != 0 {
		t.Errorf("Append allocates %v times per record, want 0", n)
	}
}

func TestJSONWriter(t *testing.T) {
	var b bytes.Buffer
	w := newJSONWriter(&b)
	if err := w.write(testRecord()); err != nil {
		t.Fatal(err)
	}
	if err := w.write(&kgo.Record{Topic: "t", Timestamp: time.UnixMilli(5)}); err != nil {
		t.Fatal(err)
	}
	want := `{"topic":"orders","partition":3,"offset":42,"timestamp":1700000000123,"key":"k1","value":"hello world","headers":[{"key":"a","value":"1"},{"key":"b","value":""}]}
{"topic":"t","partition":0,"offset":0,"timestamp":5,"key":null,"value":null,"headers":[]}
`
	if b.String() != want {
		t.Errorf("JSON =\n%s\nwant\n%s", b.String(), want)
	}
}
