package consume

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"go.uber.org/goleak"

	"github.com/sluice-io/sluice/internal/cli/clientcmd"
	"github.com/sluice-io/sluice/internal/cli/clientcmd/clientcmdtest"
	"github.com/sluice-io/sluice/internal/cli/produce"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// lines returns n input lines "key-i h=i;x=y value i" for the format
// '%k %h %v\n'.
func lines(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "key-%d h=%d;x=y value %d\n", i, i, i)
	}
	return b.String()
}

func TestProduceConsumeRoundTrip(t *testing.T) {
	cfg := clientcmdtest.NewCluster(t, kfake.SeedTopics(1, "t"))
	in := lines(100)
	out := clientcmdtest.MustRun(t, cfg, produce.New, in, "t", "-f", `%k %h %v\n`)
	if !strings.Contains(out, `produced 100 of 100 records to topic "t"`) {
		t.Fatalf("produce summary: %s", out)
	}
	got := clientcmdtest.MustRun(t, cfg, New, "", "t", "-f", `%k %h %v\n`, "-n", "100")
	if got != in {
		t.Fatalf("consumed\n%s\nwant\n%s", got, in)
	}
	got = clientcmdtest.MustRun(t, cfg, New, "", "t", "-f", `%t %p:%o %k=%v\n`, "-n", "3", "-o", "10")
	if want := "t 0:10 key-10=value 10\nt 0:11 key-11=value 11\nt 0:12 key-12=value 12\n"; got != want {
		t.Fatalf("consumed %q, want %q", got, want)
	}
}

func TestConsumeExitAtEnd(t *testing.T) {
	cfg := clientcmdtest.NewCluster(t, kfake.SeedTopics(3, "t", "empty"))
	for p := range 3 {
		in := fmt.Sprintf("p%d-a\np%d-b\np%d-c\n", p, p, p)
		clientcmdtest.MustRun(t, cfg, produce.New, in, "t", "-p", fmt.Sprint(p))
	}
	tests := []struct {
		name string
		args []string
		want []string // sorted output lines
	}{
		{"everything", []string{"-f", `%p %o %v\n`}, []string{
			"0 0 p0-a", "0 1 p0-b", "0 2 p0-c", "1 0 p1-a", "1 1 p1-b", "1 2 p1-c", "2 0 p2-a", "2 1 p2-b", "2 2 p2-c"}},
		{"last one of each", []string{"-o", "-1"}, []string{"p0-c", "p1-c", "p2-c"}},
		{"from offset 2", []string{"-o", "2"}, []string{"p0-c", "p1-c", "p2-c"}},
		{"some partitions", []string{"-p", "0", "-p", "2", "-o", "-2"}, []string{"p0-b", "p0-c", "p2-b", "p2-c"}},
		{"end", []string{"-o", "end"}, nil},
		{"timestamp in the future", []string{"-o", "@99999999999999"}, nil},
		{"timestamp zero", []string{"-o", "@0", "-p", "1"}, []string{"p1-a", "p1-b", "p1-c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := clientcmdtest.MustRun(t, cfg, New, "", append([]string{"t", "--exit-at-end"}, tt.args...)...)
			got := strings.Fields(strings.ReplaceAll(out, " ", "_"))
			want := make([]string, len(tt.want))
			for i, w := range tt.want {
				want[i] = strings.ReplaceAll(w, " ", "_")
			}
			slices.Sort(got)
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("output %q, want %q", got, want)
			}
		})
	}
	if out := clientcmdtest.MustRun(t, cfg, New, "", "empty", "-e"); out != "" {
		t.Errorf("empty topic printed %q", out)
	}
}

func TestConsumeJSON(t *testing.T) {
	cfg := clientcmdtest.NewCluster(t, kfake.SeedTopics(1, "t"))
	clientcmdtest.MustRun(t, cfg, produce.New, "k:v\n", "t", "-k", ":", "-H", "a=1")
	out := clientcmdtest.MustRun(t, cfg, New, "", "t", "--json", "-n", "1")
	var r jsonRecord
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v: %q", err, out)
	}
	if r.Topic != "t" || r.Offset != 0 || *r.Key != "k" || *r.Value != "v" || len(r.Headers) != 1 || r.Headers[0] != (jsonHeader{"a", "1"}) || r.Timestamp <= 0 {
		t.Errorf("JSON record = %s", out)
	}
}

func TestConsumeGroupCommits(t *testing.T) {
	cfg := clientcmdtest.NewCluster(t, kfake.SeedTopics(1, "t"))
	clientcmdtest.MustRun(t, cfg, produce.New, lines(10), "t", "-f", `%k %h %v\n`)
	first := clientcmdtest.MustRun(t, cfg, New, "", "t", "-g", "g1", "-n", "4")
	second := clientcmdtest.MustRun(t, cfg, New, "", "t", "-g", "g1", "-n", "6")
	if want := "value 0\nvalue 1\nvalue 2\nvalue 3\n"; first != want {
		t.Errorf("first run %q, want %q", first, want)
	}
	if want := "value 4\nvalue 5\nvalue 6\nvalue 7\nvalue 8\nvalue 9\n"; second != want {
		t.Errorf("second run (after the commit) %q, want %q", second, want)
	}
}

func TestConsumeErrors(t *testing.T) {
	cfg := clientcmdtest.NewCluster(t, kfake.SeedTopics(2, "t"))
	tests := []struct {
		name     string
		args     []string
		usage    bool
		kafka    error
		contains string
	}{
		{"unknown topic", []string{"nope"}, false, kerr.UnknownTopicOrPartition, `topic "nope" does not exist`},
		{"bad partition", []string{"t", "-p", "7"}, true, nil, `--partition 7: topic "t" has 2 partitions`},
		{"negative partition", []string{"t", "-p", "-1"}, true, nil, "--partition -1"},
		{"bad offset", []string{"t", "-o", "middle"}, true, nil, `--offset "middle"`},
		{"negative num", []string{"t", "-n", "-1"}, true, nil, "--num -1"},
		{"group and partition", []string{"t", "-g", "g", "-p", "0"}, true, nil, "--partition cannot be used with --group"},
		{"group and exit-at-end", []string{"t", "-g", "g", "-e"}, true, nil, "--exit-at-end cannot be used with --group"},
		{"json and format", []string{"t", "--json", "-f", "%v"}, true, nil, "--json and --format"},
		{"bad format", []string{"t", "-f", "%z"}, true, nil, "unknown placeholder %z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := clientcmdtest.Run(t, cfg, New, "", tt.args...)
			if r.Err == nil {
				t.Fatalf("no error; stdout:\n%s", r.Stdout)
			}
			if clientcmd.IsUsage(r.Err) != tt.usage {
				t.Errorf("IsUsage(%v) = %v, want %v", r.Err, !tt.usage, tt.usage)
			}
			if tt.kafka != nil && !errors.Is(r.Err, tt.kafka) {
				t.Errorf("%v does not wrap %v", r.Err, tt.kafka)
			}
			if !strings.Contains(r.Err.Error(), tt.contains) {
				t.Errorf("error %q lacks %q", r.Err, tt.contains)
			}
		})
	}
}
