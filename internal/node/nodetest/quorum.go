package nodetest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/sluice-io/sluice/internal/model"
	"github.com/sluice-io/sluice/internal/node"
	"github.com/sluice-io/sluice/internal/raft"
)

// Quorum is a cluster of nodes that are all voters of the metadata
// quorum (node ids 1..n, each with a CONTROLLER listener), as three
// combined Kafka nodes.
type Quorum struct {
	t     testing.TB
	Nodes []*node.Node // index i is node id i+1; nil once crashed
	opts  []node.Options
}

// StartQuorum starts n voters concurrently (each waits for the others to
// elect a leader) and stops the live ones when the test ends. mods change
// every node's options.
func StartQuorum(t testing.TB, n int, mods ...func(*node.Options)) *Quorum {
	t.Helper()
	q := &Quorum{t: t, Nodes: make([]*node.Node, n), opts: make([]node.Options, n)}
	var voters []raft.Peer
	for i := range n {
		voters = append(voters, raft.Peer{ID: raft.PeerID(model.NodeID(i + 1)), Addr: freeAddr(t)})
	}
	for i := range n {
		id := model.NodeID(i + 1)
		opts := node.TestOptions(t.TempDir())
		opts.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
		if testing.Verbose() {
			opts.Log = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})).With("node", id)
		}
		opts.NodeID, opts.Handler.NodeID, opts.Handler.ControllerID = id, id, id
		opts.Voters = voters
		opts.ControllerListener = &node.Listener{Name: "CONTROLLER", Addr: voters[i].Addr}
		for _, m := range mods {
			m(&opts)
		}
		q.opts[i] = opts
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q.Nodes[i], errs[i] = q.start(i)
		}()
	}
	wg.Wait()
	t.Cleanup(func() {
		var wg sync.WaitGroup
		for _, nd := range q.Nodes {
			if nd != nil {
				wg.Add(1)
				go func() {
					defer wg.Done()
					nd.Close()
				}()
			}
		}
		wg.Wait()
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("start node %d: %v", i+1, err)
		}
	}
	return q
}

func (q *Quorum) start(i int) (*node.Node, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return node.Start(ctx, q.opts[i])
}

// ControllerAddrs are the voters' CONTROLLER listeners.
func (q *Quorum) ControllerAddrs() []string {
	out := make([]string, len(q.opts))
	for i, o := range q.opts {
		out[i] = o.ControllerListener.Addr
	}
	return out
}

// Crash stops node i (index) without a controlled shutdown.
func (q *Quorum) Crash(i int) {
	q.t.Helper()
	if err := q.Nodes[i].Crash(); err != nil {
		q.t.Errorf("crash node %d: %v", i+1, err)
	}
	q.Nodes[i] = nil
}

// Restart starts node i again on its data directory and addresses.
func (q *Quorum) Restart(i int) *node.Node {
	q.t.Helper()
	n, err := q.start(i)
	if err != nil {
		q.t.Fatalf("restart node %d: %v", i+1, err)
	}
	q.Nodes[i] = n
	return n
}

// Active returns the index of the node that is the active controller,
// waiting for one until ctx ends.
func (q *Quorum) Active(ctx context.Context) int {
	q.t.Helper()
	for {
		wake := make(chan struct{}, len(q.Nodes))
		stop := make(chan struct{})
		for i, n := range q.Nodes {
			if n == nil {
				continue
			}
			changed := n.ControllerChanged() // before the check: no change is missed
			if n.ActiveController() {
				close(stop)
				return i
			}
			go func() {
				select {
				case <-changed:
					wake <- struct{}{}
				case <-stop:
				}
			}()
		}
		select {
		case <-wake:
			close(stop)
		case <-ctx.Done():
			close(stop)
			q.t.Fatal("no active controller")
		}
	}
}

// freeAddr is a loopback address whose port was free a moment ago.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return fmt.Sprint(ln.Addr())
}
