package integration

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-io/sluice/internal/node/nodetest"
)

// TestRecreatedTopicKeepsRecordsAcrossRestart: records acknowledged to a
// topic deleted and created again under the same name survive a clean
// restart. The restart replays the metadata log (create, delete, create);
// a reconciler that acted on the first image would find the new topic's
// log under the old topic's id and wipe it (issue 13, defect 5).
func TestRecreatedTopicKeepsRecordsAcrossRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r := nodetest.StartRestartable(t)
	adm := kadm.NewClient(nodetest.Client(t, r.Node))
	for i, step := range []func() error{
		func() error { _, err := adm.CreateTopic(ctx, 1, 1, nil, "r"); return err },
		func() error { _, err := adm.DeleteTopic(ctx, "r"); return err },
		func() error { _, err := adm.CreateTopic(ctx, 1, 1, nil, "r"); return err },
	} {
		if err := step(); err != nil {
			t.Fatalf("admin step %d: %v", i, err)
		}
	}
	cl := nodetest.Client(t, r.Node, kgo.RequiredAcks(kgo.AllISRAcks()))
	want := []string{"a", "b", "c"}
	for _, v := range want {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "r", Value: []byte(v)}).FirstErr(); err != nil {
			t.Fatalf("produce %s: %v", v, err)
		}
	}

	n := r.Restart()
	got := consumeN(ctx, t, nodetest.Client(t, n, kgo.ConsumeTopics("r"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())), len(want))
	for i, rec := range got {
		if string(rec.Value) != want[i] || rec.Offset != int64(i) {
			t.Errorf("record %d after restart: offset %d value %q, want offset %d value %q", i, rec.Offset, rec.Value, i, want[i])
		}
	}
}

// consumeN polls cl until it has n records or ctx ends.
func consumeN(ctx context.Context, t *testing.T, cl *kgo.Client, n int) []*kgo.Record {
	t.Helper()
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consumed %d of %d records: %v", len(out), n, err)
		}
		fs.EachError(func(topic string, p int32, err error) { t.Errorf("fetch %s/%d: %v", topic, p, err) })
		out = append(out, fs.Records()...)
	}
	return out
}
