package nodetest

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/sluice-io/sluice/internal/node"
)

// Restartable is a node that a test stops and starts again over the same
// data directory, as an operator restarts a broker. Not safe for
// concurrent use.
type Restartable struct {
	t    testing.TB
	dir  string
	mods []func(*node.Options)
	// Node is the running node; nil while stopped.
	Node *node.Node
}

// StartRestartable starts a node like Start; the node running when the
// test ends is closed then.
func StartRestartable(t testing.TB, mods ...func(*node.Options)) *Restartable {
	t.Helper()
	r := &Restartable{t: t, dir: t.TempDir(), mods: mods}
	r.start()
	t.Cleanup(func() {
		if r.Node != nil {
			r.Stop()
		}
	})
	return r
}

// Dir is the node's data directory.
func (r *Restartable) Dir() string { return r.dir }

// Stop closes the node cleanly.
func (r *Restartable) Stop() {
	r.t.Helper()
	n := r.Node
	r.Node = nil
	if err := n.Close(); err != nil {
		r.t.Errorf("close node: %v", err)
	}
}

// Restart stops the node (if running) and starts a new one over the same
// data directory, on a new port.
func (r *Restartable) Restart() *node.Node {
	r.t.Helper()
	if r.Node != nil {
		r.Stop()
	}
	r.start()
	return r.Node
}

func (r *Restartable) start() {
	r.t.Helper()
	opts := node.TestOptions(r.dir)
	opts.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		opts.Log = slog.New(slog.NewTextHandler(testWriter{r.t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	for _, m := range r.mods {
		m(&opts)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n, err := node.Start(ctx, opts)
	if err != nil {
		r.t.Fatalf("start node: %v", err)
	}
	r.Node = n
}
