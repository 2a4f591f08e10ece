package node_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-io/sluice/internal/metadata"
	"github.com/sluice-io/sluice/internal/model"
	"github.com/sluice-io/sluice/internal/node"
	"github.com/sluice-io/sluice/internal/node/nodetest"
)

// The controller lease (R6): a leader whose ISR is itself alone, of two
// replicas, stops acknowledging acks=all writes once the controller has
// not answered its heartbeats for a session: it may have been fenced and
// replaced without knowing. A partition of one replica has nobody to be
// replaced by and goes on.
func TestISROfOneStopsAckingWithoutTheLease(t *testing.T) {
	voter := nodetest.StartRestartable(t, asVoter, func(o *node.Options) { o.SessionTimeout = time.Minute })
	b2 := nodetest.Start(t, following(voter.Node, 2), func(o *node.Options) {
		o.SessionTimeout, o.HeartbeatInterval = time.Second, 100*time.Millisecond
	})
	b3 := nodetest.StartRestartable(t, following(voter.Node, 3))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	awaitUnfenced(ctx, t, voter.Node, 2, 3)
	if err := createAssigned(ctx, t, voter.Node, "pair", []int32{2, 3}); err != nil {
		t.Fatal(err)
	}
	if err := createAssigned(ctx, t, voter.Node, "single", []int32{2}); err != nil {
		t.Fatal(err)
	}
	b3.Stop() // leaves the ISR at once
	waitTopicPartition(ctx, t, voter.Node, "pair", func(p metadata.Partition) bool { return slices.Equal(p.ISR, []model.NodeID{2}) })
	waitIndex(ctx, t, b2.Metadata(), voter.Node.Metadata().Current().Index)
	produce(ctx, t, b2, "pair", 10) // the lease is held: acknowledged

	voter.Stop() // the controller is gone: broker 2's heartbeats go unanswered
	// Its lease lapses a session (1 s) after its last answered heartbeat.
	lapsed := time.Now().Add(1500 * time.Millisecond)
	// Not idempotent: a new producer id needs the controller.
	cl := nodetest.Client(t, b2, kgo.DisableIdempotentWrite())
	for {
		sent := time.Now()
		pctx, pcancel := context.WithTimeout(ctx, time.Second)
		err := cl.ProduceSync(pctx, &kgo.Record{Topic: "pair", Value: []byte("late")}).FirstErr()
		pcancel()
		switch {
		case err == nil && sent.After(lapsed):
			t.Fatal("a record sent after the lease lapsed was acknowledged")
		case err == nil: // acknowledged while the lease held
		case !errors.Is(err, context.DeadlineExceeded):
			t.Fatal(err)
		}
		if err != nil && time.Now().After(lapsed) {
			break // waiting, not acknowledged
		}
	}
	produce(ctx, t, b2, "single", 10, kgo.DisableIdempotentWrite()) // one replica: no lease needed
}
