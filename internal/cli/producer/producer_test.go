package producer

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/goleak"

	"github.com/sluice-io/sluice/internal/cli/clientcmd/clientcmdtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestDescribe(t *testing.T) {
	cfg := clientcmdtest.NewCluster(t, kfake.SeedTopics(1, "orders"))
	cl, err := kgo.NewClient(kgo.SeedBrokers(cfg.Brokers()...), kgo.TransactionalID("tx"), kgo.DefaultProduceTopic("orders"),
		kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte("v")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	var rows []describedProducer
	if err := json.Unmarshal([]byte(clientcmdtest.MustRun(t, cfg, New, "", "describe", "orders", "--json")), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].Partition != 0 || rows[0].ProducerID < 0 || rows[0].CurrentTxnStartOffset != 0 {
		t.Fatalf("describe: %+v", rows)
	}
	out := clientcmdtest.MustRun(t, cfg, New, "", "describe", "orders")
	if len(out) == 0 {
		t.Fatal("no table")
	}
	if r := clientcmdtest.Run(t, cfg, New, "", "describe", "missing"); r.Err == nil {
		t.Fatal("describe of a missing topic succeeded")
	}
}
