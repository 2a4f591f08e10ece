package group

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/goleak"

	"github.com/sluice-io/sluice/internal/cli/clientcmd"
	"github.com/sluice-io/sluice/internal/cli/clientcmd/clientcmdtest"
	"github.com/sluice-io/sluice/internal/node"
	"github.com/sluice-io/sluice/internal/node/nodetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// cluster starts an in-process Sluice node and returns it and a Config
// for it.
func cluster(t *testing.T) (*node.Node, *clientcmd.Config) {
	t.Helper()
	n := nodetest.Start(t)
	return n, &clientcmd.Config{Brokers: func() []string { return []string{n.Addr()} }}
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// produce writes count records to each of partitions of topic, with
// timestamps ts(i) when ts is not nil.
func produce(t *testing.T, n *node.Node, topic string, partitions, count int, ts func(i int) time.Time) {
	t.Helper()
	cl := nodetest.Client(t, n, kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	var recs []*kgo.Record
	for p := range partitions {
		for i := range count {
			r := &kgo.Record{Partition: int32(p), Value: fmt.Appendf(nil, "%d-%d", p, i)}
			if ts != nil {
				r.Timestamp = ts(i)
			}
			recs = append(recs, r)
		}
	}
	if err := cl.ProduceSync(testContext(t), recs...).FirstErr(); err != nil {
		t.Fatalf("produce to %s: %v", topic, err)
	}
}

// consumer joins group on topic, reads want records and returns the
// client (still a member) and what it read.
func consumer(t *testing.T, n *node.Node, group, topic string, want int) (*kgo.Client, []string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(n.Addr()), kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
		kgo.ClientID("cli-test"), kgo.DisableAutoCommit(), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	var got []string
	for len(got) < want {
		fs := cl.PollFetches(ctx)
		if err := fs.Err(); err != nil {
			cl.Close()
			t.Fatalf("consume %s in group %s after %d records: %v", topic, group, len(got), err)
		}
		fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	return cl, got
}

// rows splits a table into rows of whitespace-separated cells.
func rows(out string) [][]string {
	var rs [][]string
	for line := range strings.Lines(out) {
		if f := strings.Fields(line); len(f) > 0 {
			rs = append(rs, f)
		}
	}
	return rs
}

// hasRow reports whether out has a row whose leading cells are want.
func hasRow(out string, want ...string) bool {
	for _, r := range rows(out) {
		if len(r) >= len(want) && strings.Join(r[:len(want)], " ") == strings.Join(want, " ") {
			return true
		}
	}
	return false
}

func TestListDescribeSeekDelete(t *testing.T) {
	n, cfg := cluster(t)
	run := func(args ...string) string { return clientcmdtest.MustRun(t, cfg, New, "", args...) }
	ctx := testContext(t)
	if _, err := nodetest.Admin(t, n).CreateTopic(ctx, 3, 1, nil, "orders"); err != nil {
		t.Fatal(err)
	}
	produce(t, n, "orders", 3, 10, nil)
	cons, _ := consumer(t, n, "billing", "orders", 30)
	defer cons.Close()
	if err := cons.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatal(err)
	}
	produce(t, n, "orders", 1, 5, nil) // partition 0 is now 5 records ahead

	out := run("list")
	if !hasRow(out, "GROUP", "TYPE", "STATE", "PROTOCOL-TYPE", "MEMBERS") || !hasRow(out, "billing", "classic", "Stable", "consumer", "1") {
		t.Fatalf("list:\n%s", out)
	}
	if out := run("list", "--state", "empty"); hasRow(out, "billing") {
		t.Fatalf("list --state empty shows a Stable group:\n%s", out)
	}

	out = run("describe", "billing")
	memberID, _ := cons.GroupMetadata()
	for _, w := range [][]string{
		{"billing", "classic", "Stable", "consumer", "cooperative-sticky", "1", "1", "5"},
		{"billing", "orders", "0", "10", "15", "5", memberID, "/127.0.0.1", "cli-test", "-"},
		{"billing", "orders", "2", "10", "10", "0", memberID},
	} {
		if !hasRow(out, w...) {
			t.Fatalf("describe lacks row %v:\n%s", w, out)
		}
	}
	var d described
	if err := json.Unmarshal([]byte(run("describe", "billing", "--json")), &d); err != nil {
		t.Fatal(err)
	}
	if d.TotalLag != 5 || len(d.Members) != 1 || len(d.Partitions) != 3 || *d.Partitions[0].Lag != 5 || d.Partitions[0].MemberID != memberID {
		t.Fatalf("describe --json = %+v", d)
	}

	r := clientcmdtest.Run(t, cfg, New, "", "seek", "billing", "--topic", "orders", "--to", "start")
	if r.Err == nil || clientcmd.IsUsage(r.Err) || !strings.Contains(r.Err.Error(), "1 active member(s) (state Stable)") ||
		!strings.Contains(r.Err.Error(), "stop its consumers") {
		t.Fatalf("seek of an active group: err = %v", r.Err)
	}
	r = clientcmdtest.Run(t, cfg, New, "", "delete", "billing")
	if !errors.Is(r.Err, kerr.NonEmptyGroup) || !strings.Contains(r.Err.Error(), "stop its consumers first") {
		t.Fatalf("delete of an active group: err = %v", r.Err)
	}

	cons.Close() // leaves the group
	seekAndDeleteEmpty(t, n, cfg)
}

// seekAndDeleteEmpty continues TestListDescribeSeekDelete once group
// "billing" (committed 10 of 15, 10, 10 on orders) has no members left.
func seekAndDeleteEmpty(t *testing.T, n *node.Node, cfg *clientcmd.Config) {
	run := func(args ...string) string { return clientcmdtest.MustRun(t, cfg, New, "", args...) }
	if out := run("list", "--state", "Empty"); !hasRow(out, "billing", "classic", "Empty", "consumer", "0") {
		t.Fatalf("list --state Empty after the consumer left:\n%s", out)
	}
	out := run("seek", "billing", "--topic", "orders", "--to", "start", "--dry-run")
	if !hasRow(out, "billing", "orders", "0", "10", "0", "OK", "(dry") {
		t.Fatalf("seek --dry-run:\n%s", out)
	}
	if out := run("describe", "billing"); !hasRow(out, "billing", "orders", "0", "10", "15", "5") {
		t.Fatalf("a dry run moved the offsets:\n%s", out)
	}
	out = run("seek", "billing", "--topic", "orders", "--to", "start")
	if !hasRow(out, "billing", "orders", "1", "10", "0", "OK") {
		t.Fatalf("seek --to start:\n%s", out)
	}
	again, got := consumer(t, n, "billing", "orders", 35)
	again.Close()
	if len(got) != 35 {
		t.Fatalf("after seek to start a new consumer read %d records, want all 35", len(got))
	}

	if out := run("delete", "billing"); !hasRow(out, "billing", "OK") {
		t.Fatalf("delete:\n%s", out)
	}
	if out := run("list"); hasRow(out, "billing") {
		t.Fatalf("list after delete:\n%s", out)
	}
	r := clientcmdtest.Run(t, cfg, New, "", "describe", "billing")
	if !errors.Is(r.Err, kerr.GroupIDNotFound) || !strings.Contains(r.Err.Error(), `group "billing" does not exist`) {
		t.Fatalf("describe after delete: err = %v", r.Err)
	}
}
