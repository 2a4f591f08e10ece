package node_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/sluice-io/sluice/internal/node"
	"github.com/sluice-io/sluice/internal/node/nodetest"
)

// A second process started with a node.id that a live broker holds does
// not start: the controller answers DUPLICATE_BROKER_REGISTRATION and the
// startup error names node.id. Once the first has died the same start
// succeeds and the registration is the new process's.
func TestDuplicateNodeIDRefused(t *testing.T) {
	voter := nodetest.Start(t, asVoter)
	hb := func(o *node.Options) { o.HeartbeatInterval = 100 * time.Millisecond }
	first := nodetest.Start(t, following(voter, 2), hb)
	awaitUnfenced(context.Background(), t, voter, 2)

	opts := node.TestOptions(t.TempDir())
	opts.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	following(voter, 2)(&opts)
	hb(&opts)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if n, err := node.Start(ctx, opts); err == nil {
		n.Close()
		t.Fatal("a second node 2 started while the first lives")
	} else if !errors.Is(err, kerr.DuplicateBrokerRegistration) || !strings.HasPrefix(err.Error(), "node.id: 2 ") {
		t.Fatalf("second node 2: %v; want DUPLICATE_BROKER_REGISTRATION naming node.id", err)
	}

	if err := first.Crash(); err != nil {
		t.Fatal(err)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel2()
	second, err := node.Start(ctx2, opts)
	if err != nil {
		t.Fatalf("node 2 after the first died: %v", err)
	}
	defer second.Close()
	if b := voter.Metadata().Current().Brokers[2]; b == nil || b.Fenced || !strings.HasSuffix(second.Addr(), ":"+strconv.Itoa(int(b.Port))) {
		t.Fatalf("registration %+v, the new process listens on %s", b, second.Addr())
	}
}
