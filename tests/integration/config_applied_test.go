package integration

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/metadata"
	"github.com/sluice-io/sluice/internal/model"
	"github.com/sluice-io/sluice/internal/node"
	"github.com/sluice-io/sluice/internal/node/nodetest"
	"github.com/sluice-io/sluice/internal/replica"
)

// Config keys that were accepted and ignored (issue 13: "a config key
// that is accepted but not applied is a bug"), now applied.

// TestWriteCachingAnswersAcksAllBeforeTheFsync: with
// sluice.write.caching=true an acks=all produce is answered after the
// append, with nothing fsynced; without it only after the fsync.
func TestWriteCachingAnswersAcksAllBeforeTheFsync(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n := nodetest.Start(t)
	adm := nodetest.Admin(t, n)
	on := "true"
	if _, err := adm.CreateTopic(ctx, 1, 1, map[string]*string{"sluice.write.caching": &on}, "cached"); err != nil {
		t.Fatal(err)
	}
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, "safe"); err != nil {
		t.Fatal(err)
	}
	cl := nodetest.Client(t, n, kgo.RequiredAcks(kgo.AllISRAcks()))
	for _, topic := range []string{"cached", "safe"} {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte("v")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	cached := n.Partition(model.TopicPartition{Topic: "cached"}).Log().RecoveryPoint()
	safe := n.Partition(model.TopicPartition{Topic: "safe"}).Log().RecoveryPoint()
	if cached != 0 || safe != 1 {
		t.Fatalf("fsynced up to %d with write caching (want 0), %d without (want 1)", cached, safe)
	}
}

// TestFetchMaxBytesCapsResponses: fetch.max.bytes caps a response below
// the request's max_bytes (but the first batch is always returned,
// KIP-74).
func TestFetchMaxBytesCapsResponses(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n := nodetest.Start(t, func(o *node.Options) { o.Handler.FetchMaxBytes = 4096 })
	cl := nodetest.Client(t, n, kgo.DefaultProduceTopic("capped"), kgo.AllowAutoTopicCreation())
	for i := range 10 {
		if err := cl.ProduceSync(ctx, &kgo.Record{Value: make([]byte, 1000+i)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	resp := dial(t, n).request(fetchFromStart("capped", 1, 0, 1), 11).(*kmsg.FetchResponse)
	if got := recordBytes(resp); got == 0 || got > 4096 {
		t.Fatalf("fetch with max_bytes %d returned %d bytes of records, want 1..4096", fetchFromStart("capped", 1, 0, 1).MaxBytes, got)
	}
}

// TestProducerIDExpirationCheckInterval: idle producers are dropped every
// producer.id.expiration.check.interval.ms, not only with retention.
func TestProducerIDExpirationCheckInterval(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n := nodetest.Start(t, func(o *node.Options) {
		o.ProducerIDExpirationCheckInterval = 50 * time.Millisecond
		resolve := o.TopicConfig
		o.TopicConfig = func(im *metadata.Image, overrides map[string]string) replica.Config {
			rc := resolve(im, overrides)
			rc.ProducerIDExpirationMs = 1
			return rc
		}
	})
	cl := nodetest.Client(t, n, kgo.DefaultProduceTopic("idle"), kgo.AllowAutoTopicCreation())
	if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte("v")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	adm := kadm.NewClient(cl)
	for {
		ps, err := adm.DescribeProducers(ctx, kadm.TopicsSet{"idle": {0: {}}})
		if err != nil {
			t.Fatal(err)
		}
		parts := ps.SortedPartitions()
		if len(parts) == 1 && parts[0].Err == nil && len(parts[0].ActiveProducers) == 0 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatal("the idle producer was never expired")
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// TestDynamicBrokerConfigsApply: a cluster-wide dynamic broker config
// (kafka-configs.sh --entity-default) changes what running partitions do,
// and still does after a restart; it used to be stored and shown by
// DescribeConfigs but never applied.
func TestDynamicBrokerConfigsApply(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r := nodetest.StartRestartable(t)
	adm := nodetest.Admin(t, r.Node)
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, "dyn"); err != nil {
		t.Fatal(err)
	}
	big := &kgo.Record{Topic: "dyn", Value: make([]byte, 3000)}
	produce := func(n *node.Node) error {
		cl := nodetest.Client(t, n, kgo.ProducerBatchCompression(kgo.NoCompression()), kgo.RecordRetries(1))
		return cl.ProduceSync(ctx, big).FirstErr()
	}
	if err := produce(r.Node); err != nil {
		t.Fatalf("3000 bytes under the default message.max.bytes: %v", err)
	}
	limit := "2000"
	res, err := adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "message.max.bytes", Value: &limit}})
	if err != nil || res[0].Err != nil {
		t.Fatalf("alter the cluster default: %v %v", err, res)
	}
	if err := produce(r.Node); !errors.Is(err, kerr.MessageTooLarge) {
		t.Fatalf("3000 bytes with message.max.bytes 2000 set dynamically: %v, want MESSAGE_TOO_LARGE", err)
	}
	if err := produce(r.Restart()); !errors.Is(err, kerr.MessageTooLarge) {
		t.Fatalf("after a restart: %v, want MESSAGE_TOO_LARGE", err)
	}
}
