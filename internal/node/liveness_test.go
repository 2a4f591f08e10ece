package node_test

import (
	"context"
	"testing"
	"time"

	"github.com/sluice-io/sluice/internal/model"
	"github.com/sluice-io/sluice/internal/node"
	"github.com/sluice-io/sluice/internal/node/nodetest"
)

// awaitFenced waits until n's image says broker id is fenced, or fails
// the test when ctx ends first.
func awaitFenced(ctx context.Context, t *testing.T, n *node.Node, id model.NodeID) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		changed := n.Metadata().Changed()
		if b := n.Metadata().Current().Brokers[id]; b != nil && b.Fenced {
			return time.Since(start)
		}
		select {
		case <-changed:
		case <-ctx.Done():
			t.Fatalf("broker %d not fenced: %v", id, ctx.Err())
		}
	}
}

// awaitUnfenced waits until n's image has every broker of ids
// registered and unfenced, or fails the test when ctx ends first.
func awaitUnfenced(ctx context.Context, t *testing.T, n *node.Node, ids ...model.NodeID) {
	t.Helper()
	for _, id := range ids {
		for {
			changed := n.Metadata().Changed()
			if b := n.Metadata().Current().Brokers[id]; b != nil && !b.Fenced {
				break
			}
			select {
			case <-changed:
			case <-ctx.Done():
				t.Fatalf("broker %d not unfenced: %v", id, ctx.Err())
			}
		}
	}
}

// A broker that dies is fenced as soon as its heartbeat connection closes
// and its listener refuses connections, not after its session expires:
// with a session of a minute, its death is seen within seconds (the
// heartbeat connection's close triggers the probe). A broker
// that lives is not fenced by it.
func TestDeadBrokerFencedBeforeSessionTimeout(t *testing.T) {
	voter := nodetest.Start(t, asVoter, func(o *node.Options) {
		o.SessionTimeout = time.Minute
	})
	brokers := map[model.NodeID]*node.Node{}
	for _, id := range []model.NodeID{2, 3} {
		brokers[id] = nodetest.Start(t, following(voter, id), func(o *node.Options) {
			o.HeartbeatInterval = 100 * time.Millisecond
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	awaitUnfenced(ctx, t, voter, 2, 3)
	brokers[2].Crash()
	// Within a sixth of the session: sooner than both its expiry and the
	// probe after missed heartbeats (a third of it).
	fctx, fcancel := context.WithTimeout(ctx, 10*time.Second)
	defer fcancel()
	took := awaitFenced(fctx, t, voter, 2)
	t.Logf("broker 2 fenced %v after its crash", took)
	if voter.Metadata().Current().Brokers[3].Fenced {
		t.Fatal("broker 3, alive, was fenced too")
	}
}

// When the active controller dies with its broker, the voter that takes
// over probes every broker on activation: the dead one is fenced (its
// partitions move) at once, not after a whole session of a minute that
// its new session would start with.
func TestDeadActiveControllerFencedOnActivation(t *testing.T) {
	q := nodetest.StartQuorum(t, 3, func(o *node.Options) {
		o.SessionTimeout, o.HeartbeatInterval = time.Minute, 100*time.Millisecond
	})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	active := q.Active(ctx)
	dead := model.NodeID(active + 1) // node ids are index + 1
	q.Crash(active)
	next := q.Active(ctx)
	fctx, fcancel := context.WithTimeout(ctx, 10*time.Second)
	defer fcancel()
	took := awaitFenced(fctx, t, q.Nodes[next], dead)
	t.Logf("broker %d fenced %v after node %d became active", dead, took, next+1)
	for i, n := range q.Nodes {
		if n != nil && n.Metadata().Current().Brokers[model.NodeID(i+1)].Fenced {
			t.Errorf("live broker %d fenced", i+1)
		}
	}
}
