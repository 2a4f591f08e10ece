package txn

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/goleak"

	"github.com/sluice-io/sluice/internal/cli/clientcmd"
	"github.com/sluice-io/sluice/internal/cli/clientcmd/clientcmdtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// openTxn starts a transaction of "payments-1" with one record in topic
// t and leaves it open; the client closes when the test ends.
func openTxn(t *testing.T, cfg *clientcmd.Config) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(cfg.Brokers()...), kgo.TransactionalID("payments-1"), kgo.DefaultProduceTopic("t"),
		kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte("v")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

func TestListAndDescribe(t *testing.T) {
	cfg := clientcmdtest.NewCluster(t, kfake.SeedTopics(1, "t"))
	openTxn(t, cfg)
	out := clientcmdtest.MustRun(t, cfg, New, "", "list")
	if !strings.Contains(out, "TRANSACTIONAL ID") || !strings.Contains(out, "payments-1") || !strings.Contains(out, "Ongoing") {
		t.Fatalf("list:\n%s", out)
	}
	if out := clientcmdtest.MustRun(t, cfg, New, "", "list", "--state", "Empty"); strings.Contains(out, "payments-1") {
		t.Fatalf("list --state Empty:\n%s", out)
	}
	var ds []describedTxn
	if err := json.Unmarshal([]byte(clientcmdtest.MustRun(t, cfg, New, "", "describe", "payments-1", "--json")), &ds); err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || ds[0].State != "Ongoing" || len(ds[0].Partitions) != 1 || ds[0].Partitions[0] != "t-0" || ds[0].ProducerID < 0 {
		t.Fatalf("describe: %+v", ds)
	}
	if r := clientcmdtest.Run(t, cfg, New, "", "describe"); r.Err == nil || !clientcmd.IsUsage(r.Err) {
		t.Fatalf("describe without ids: %v", r.Err)
	}
}
