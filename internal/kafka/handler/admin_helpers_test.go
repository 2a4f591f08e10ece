package handler_test

// Helpers for the admin API tests: a node started through nodetest, with
// a franz-go client and a kadm admin client.

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"

	"github.com/sluice-io/sluice/internal/config"
	"github.com/sluice-io/sluice/internal/node"
	"github.com/sluice-io/sluice/internal/node/nodetest"
)

// admNode is a running node and its clients.
type admNode struct {
	n       *node.Node
	dataDir string
	cl      *kgo.Client
	adm     *kadm.Client
	fetcher *kgo.Client // fetchOne's, made on first use
}

// startAdmin starts a node whose controller validates configs with
// internal/config (mods change the options further).
func startAdmin(t *testing.T, mods ...func(*node.Options)) *admNode {
	t.Helper()
	var dir string
	all := append([]func(*node.Options){func(o *node.Options) {
		dir = o.DataDir
		o.Handler.LogDir = o.DataDir
		o.Controller.ValidateTopicConfigs = config.ValidateTopicConfigs
	}}, mods...)
	n := nodetest.Start(t, all...)
	cl := nodetest.Client(t, n, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	return &admNode{n: n, dataDir: dir, cl: cl, adm: kadm.NewClient(cl)}
}

func admCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// createTopic creates a topic with the given partitions and configs.
func (a *admNode) createTopic(t *testing.T, name string, partitions int32, configs map[string]*string) {
	t.Helper()
	if _, err := a.adm.CreateTopic(admCtx(t), partitions, 1, configs, name); err != nil {
		t.Fatalf("create topic %s: %v", name, err)
	}
}

// produce writes n records to one partition.
func (a *admNode) produce(t *testing.T, topic string, partition int32, n int) {
	t.Helper()
	recs := make([]*kgo.Record, n)
	for i := range recs {
		recs[i] = &kgo.Record{Topic: topic, Partition: partition, Value: []byte("value")}
	}
	if err := a.cl.ProduceSync(admCtx(t), recs...).FirstErr(); err != nil {
		t.Fatalf("produce to %s-%d: %v", topic, partition, err)
	}
}

// request sends req to broker 1 at the highest version both sides know.
func (a *admNode) request(t *testing.T, req kmsg.Request) kmsg.Response {
	t.Helper()
	return a.requestAt(t, req.MaxVersion(), req)
}

// requestAt sends req to broker 1 at version, as is: no client-side
// sharding or checks (kgo otherwise picks the version itself).
func (a *admNode) requestAt(t *testing.T, version int16, req kmsg.Request) kmsg.Response {
	t.Helper()
	vs := kversion.Tip()
	vs.SetMaxKeyVersion(req.Key(), version)
	cl := nodetest.Client(t, a.n, kgo.MaxVersions(vs))
	resp, err := cl.Broker(1).Request(admCtx(t), req)
	if err != nil {
		t.Fatalf("request %T v%d: %v", req, version, err)
	}
	if got := resp.GetVersion(); got != version {
		t.Fatalf("request %T sent at v%d, want v%d", req, got, version)
	}
	return resp
}

// codeName names a Kafka error code for comparisons ("OK" for 0).
func codeName(code int16) string {
	if code == 0 {
		return "OK"
	}
	if e := kerr.ErrorForCode(code); e != nil {
		if ke, ok := e.(*kerr.Error); ok {
			return ke.Message
		}
	}
	return "UNKNOWN"
}

// errName names an error from kadm for comparisons ("OK" for nil).
func errName(err error) string {
	if err == nil {
		return "OK"
	}
	if ke, ok := err.(*kerr.Error); ok {
		return ke.Message
	}
	return err.Error()
}

func strp(s string) *string { return &s }
