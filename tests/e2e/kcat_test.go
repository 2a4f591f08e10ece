package e2e

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

const kcatTimeout = 60 * time.Second

func kcat(t *testing.T, b *broker, stdin string, args ...string) string {
	t.Helper()
	return run(t, kcatTimeout, strings.NewReader(stdin), "kcat", append([]string{"-b", b.Addr}, args...)...)
}

// TestKcatMetadata: -L lists the broker and the topics with partitions.
func TestKcatMetadata(t *testing.T) {
	t.Parallel()
	b := startBroker(t, "num.partitions=3")
	kcat(t, b, "x\n", "-P", "-t", "listed")
	out := kcat(t, b, "", "-L")
	for _, want := range []string{
		"1 brokers:",
		"broker 1 at " + b.Addr,
		`topic "listed" with 3 partitions:`,
		"partition 0, leader 1, replicas: 1, isrs: 1",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("kcat -L output lacks %q:\n%s", want, out)
		}
	}
}

// TestKcatCodecsRoundTrip: records with keys and headers, produced with
// every codec, come back byte-exact.
func TestKcatCodecsRoundTrip(t *testing.T) {
	t.Parallel()
	b := startBroker(t)
	for _, codec := range []string{"none", "gzip", "snappy", "lz4", "zstd"} {
		t.Run(codec, func(t *testing.T) {
			topic := "codec-" + codec
			var in, want strings.Builder
			for i := 0; i < 200; i++ {
				key := fmt.Sprintf("key-%d", i%17)
				val := fmt.Sprintf("value %d ünïcödé %s", i, strings.Repeat("x", i*7))
				fmt.Fprintf(&in, "%s\t%s\n", key, val)
				fmt.Fprintf(&want, "%s|%s|h1=a%d,h2=b\n", key, val, 0)
			}
			kcat(t, b, in.String(), "-P", "-t", topic, "-K", "\t", "-z", codec, "-H", "h1=a0", "-H", "h2=b")
			got := kcat(t, b, "", "-C", "-t", topic, "-o", "beginning", "-e", "-f", "%k|%s|%h\n")
			if got != want.String() {
				t.Fatalf("round trip with %s differs:\ngot  %.300q\nwant %.300q", codec, got, want.String())
			}
		})
	}
}

// TestKcatOffsets: -o beginning, end, an absolute offset, a relative one.
func TestKcatOffsets(t *testing.T) {
	t.Parallel()
	b := startBroker(t)
	var in strings.Builder
	for i := 0; i < 10; i++ {
		fmt.Fprintf(&in, "m%d\n", i)
	}
	kcat(t, b, in.String(), "-P", "-t", "offs", "-p", "0")
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"beginning", []string{"-o", "beginning", "-c", "3"}, "0:m0\n1:m1\n2:m2\n"},
		{"absolute", []string{"-o", "7"}, "7:m7\n8:m8\n9:m9\n"},
		{"relative from end", []string{"-o", "-2"}, "8:m8\n9:m9\n"},
		{"end", []string{"-o", "end"}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"-C", "-t", "offs", "-p", "0", "-e", "-f", "%o:%s\n"}, c.args...)
			if got := kcat(t, b, "", args...); got != c.want {
				t.Fatalf("kcat %v = %q, want %q", c.args, got, c.want)
			}
		})
	}
}

// TestKcatTimestampQuery: -Q answers the first offset at or after a
// timestamp, as Kafka's ListOffsets does.
func TestKcatTimestampQuery(t *testing.T) {
	t.Parallel()
	b := startBroker(t)
	script := fmt.Sprintf(`
from confluent_kafka import Producer
p = Producer({'bootstrap.servers': %q})
for i in range(10):
    p.produce('times', value=b'v%%d' %% i, partition=0, timestamp=1700000000000 + i * 1000)
assert p.flush(30) == 0
`, b.Addr)
	run(t, kcatTimeout, nil, "/usr/bin/python3", "-c", script)
	re := regexp.MustCompile(`times \[0\]\s+offset (-?\d+)`)
	for _, c := range []struct {
		ts   int64
		want string
	}{
		{1700000000000, "0"},
		{1700000004500, "5"},
		{1700000009000, "9"},
		{1700000099000, "-1"},
	} {
		out := kcat(t, b, "", "-Q", "-t", fmt.Sprintf("times:0:%d", c.ts))
		m := re.FindStringSubmatch(out)
		if m == nil || m[1] != c.want {
			t.Errorf("kcat -Q at %d = %q, want offset %s", c.ts, out, c.want)
		}
	}
}
