package produce

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/goleak"

	"github.com/sluice-io/sluice/internal/cli/clientcmd"
	"github.com/sluice-io/sluice/internal/cli/clientcmd/clientcmdtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// readBack reads n records of topic with a plain franz-go consumer.
func readBack(t *testing.T, cfg *clientcmd.Config, topic string, n int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(cfg.Brokers()...), kgo.ConsumeTopics(topic),
		kgo.ConsumeStartOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var rs []*kgo.Record
	for len(rs) < n {
		fs := cl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatalf("read back %d of %d: %v", len(rs), n, err)
		}
		rs = append(rs, fs.Records()...)
	}
	return rs
}

func TestProduceKeysAndHeaders(t *testing.T) {
	cfg := clientcmdtest.NewCluster(t, kfake.SeedTopics(1, "t"))
	out := clientcmdtest.MustRun(t, cfg, New, "k1:v1\nk2:v 2\n:keyless\n",
		"t", "--key-delim", ":", "-H", "src=test", "-H", "n=1", "-v")
	if !strings.Contains(out, `produced 3 of 3 records to topic "t"`) ||
		!strings.Contains(out, "PARTITION") || !strings.Contains(out, "0          3        0             2") {
		t.Fatalf("summary:\n%s", out)
	}
	want := []string{"k1=v1 [src=test;n=1]", "k2=v 2 [src=test;n=1]", "<nil>=keyless [src=test;n=1]"}
	for i, r := range readBack(t, cfg, "t", 3) {
		key := "<nil>"
		if r.Key != nil {
			key = string(r.Key)
		}
		if got := fmt.Sprintf("%s=%s [%s]", key, r.Value, clientcmd.AppendHeaders(nil, r.Headers)); got != want[i] {
			t.Errorf("record %d = %q, want %q", i, got, want[i])
		}
	}
}

func TestProduceFormatAndPartition(t *testing.T) {
	cfg := clientcmdtest.NewCluster(t, kfake.SeedTopics(3, "t"))
	in := "a h1=x;h2=y first value\nb  second\n"
	clientcmdtest.MustRun(t, cfg, New, in, "t", "-f", `%k %h %v\n`, "-p", "2", "--acks", "1", "-z", "zstd", "-H", "all=1")
	rs := readBack(t, cfg, "t", 2)
	for _, r := range rs {
		if r.Partition != 2 {
			t.Errorf("record %q in partition %d, want 2", r.Value, r.Partition)
		}
	}
	if got := string(clientcmd.AppendHeaders(nil, rs[0].Headers)); got != "all=1;h1=x;h2=y" {
		t.Errorf("headers = %q, want all=1;h1=x;h2=y", got)
	}
	if string(rs[0].Value) != "first value" || string(rs[1].Key) != "b" || string(rs[1].Value) != "second" {
		t.Errorf("records = %q/%q, %q/%q", rs[0].Key, rs[0].Value, rs[1].Key, rs[1].Value)
	}
}

func TestProduceErrors(t *testing.T) {
	cfg := clientcmdtest.NewCluster(t, kfake.SeedTopics(2, "t"))
	tests := []struct {
		name     string
		stdin    string
		args     []string
		usage    bool
		kafka    error
		contains []string
	}{
		{"unknown topic", "x\n", []string{"nope"}, false, kerr.UnknownTopicOrPartition, []string{`topic "nope" does not exist`}},
		{"partition out of range", "x\n", []string{"t", "-p", "5"}, true, nil, []string{`--partition 5: topic "t" has 2 partitions (0-1)`}},
		{"bad input record", "a b\nnodelim\n", []string{"t", "-f", "%k %v"}, false, nil, []string{"input record 2", `no " " after the key`}},
		{"record too large", strings.Repeat("x", 2<<20) + "\n", []string{"t"}, false, kerr.MessageTooLarge, []string{"1 of 1 records were not produced", "MESSAGE_TOO_LARGE"}},
		{"no topic", "", nil, true, nil, []string{"one topic name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := clientcmdtest.Run(t, cfg, New, tt.stdin, tt.args...)
			if r.Err == nil {
				t.Fatalf("no error; stdout:\n%s", r.Stdout)
			}
			if clientcmd.IsUsage(r.Err) != tt.usage {
				t.Errorf("IsUsage(%v) = %v, want %v", r.Err, !tt.usage, tt.usage)
			}
			if tt.kafka != nil && !errors.Is(r.Err, tt.kafka) {
				t.Errorf("%v does not wrap %v", r.Err, tt.kafka)
			}
			for _, s := range tt.contains {
				if !strings.Contains(r.Err.Error(), s) {
					t.Errorf("error %q lacks %q", r.Err, s)
				}
			}
		})
	}
}
