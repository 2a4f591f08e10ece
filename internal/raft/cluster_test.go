package raft

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"testing"
	"time"
)

// testCluster is an in-process quorum over a MemoryNetwork, or over TCP
// on loopback (newTCPCluster).
type testCluster struct {
	t     *testing.T
	net   *MemoryNetwork
	peers []Peer
	dirs  map[uint64]string
	nodes map[uint64]*Node
	sms   map[uint64]*testSM
	snap  uint64 // SnapshotEntries
	// TCP only: each running node's listener (nil while it is stopped).
	tcp       bool
	listeners map[uint64]net.Listener
}

func newTestCluster(t *testing.T, size int, snapEvery uint64) *testCluster {
	c := &testCluster{
		t: t, net: NewMemoryNetwork(), snap: snapEvery,
		dirs: map[uint64]string{}, nodes: map[uint64]*Node{}, sms: map[uint64]*testSM{},
	}
	for id := uint64(1); id <= uint64(size); id++ {
		c.peers = append(c.peers, Peer{ID: id, Addr: fmt.Sprintf("mem:%d", id)})
		c.dirs[id] = t.TempDir()
	}
	c.startAll()
	return c
}

// newTCPCluster is newTestCluster over TCPTransports on loopback, each
// node's raft sharing its listener with "Kafka" (SplitListener).
func newTCPCluster(t *testing.T, size int, snapEvery uint64) *testCluster {
	c := &testCluster{
		t: t, snap: snapEvery, tcp: true, listeners: map[uint64]net.Listener{},
		dirs: map[uint64]string{}, nodes: map[uint64]*Node{}, sms: map[uint64]*testSM{},
	}
	for id := uint64(1); id <= uint64(size); id++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		c.listeners[id] = ln
		c.peers = append(c.peers, Peer{ID: id, Addr: ln.Addr().String()})
		c.dirs[id] = t.TempDir()
	}
	c.startAll()
	return c
}

func (c *testCluster) startAll() {
	t := c.t
	for _, p := range c.peers {
		c.start(p.ID)
	}
	t.Cleanup(func() {
		for id := range c.nodes {
			c.stop(id)
		}
	})
}

// start opens node id with a fresh state machine (recovering its dir).
// The election timeout (300-600 ms) is generous so that a leader keeps its
// quorum through fsync stalls of a loaded test machine.
func (c *testCluster) start(id uint64) {
	c.sms[id] = newTestSM()
	var tr Transport
	if c.tcp {
		tr = c.tcpTransport(id)
	} else {
		tr = c.net.Transport(id)
	}
	c.nodes[id] = mustOpen(c.t, Config{
		ID: id, Dir: c.dirs[id], Peers: c.peers,
		TickInterval: 10 * time.Millisecond, ElectionTicks: 30, HeartbeatTicks: 1,
		SnapshotEntries: c.snap, Transport: tr, Logger: testLogger(c.t),
	}, c.sms[id])
}

// tcpTransport binds node id's address again if it was stopped and
// returns its transport, serving the raft connections of its listener.
func (c *testCluster) tcpTransport(id uint64) Transport {
	addr := c.peers[id-1].Addr
	ln := c.listeners[id]
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", addr); err != nil {
			c.t.Fatalf("rebind node %d at %s: %v", id, addr, err)
		}
	}
	tr := NewTCPTransport(id, c.peers, testLogger(c.t))
	c.listeners[id] = SplitListener(ln, tr.Serve, testLogger(c.t))
	return tr
}

func (c *testCluster) stop(id uint64) {
	mustClose(c.t, c.nodes[id])
	delete(c.nodes, id)
	if c.tcp {
		c.listeners[id].Close()
		c.listeners[id] = nil
	}
}

// waitLeader waits until every running node names the same leader, other
// than not, and returns it.
func (c *testCluster) waitLeader(not uint64) uint64 {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		var leader uint64
		var wait <-chan struct{}
		agree := true
		for _, n := range c.nodes {
			id, changed := n.LeaderWatch()
			if id == 0 || id == not || (leader != 0 && id != leader) {
				agree, wait = false, changed
				break
			}
			leader = id
		}
		if agree {
			return leader
		}
		select {
		case <-wait:
		case <-ctx.Done():
			c.t.Fatalf("no agreed leader (other than %d)", not)
		}
	}
}

// checkSame waits until every running node applied index and checks that
// all hold the same payloads, in the same order, each once.
func (c *testCluster) checkSame(index uint64, want []string) {
	c.t.Helper()
	for id := range c.nodes {
		c.sms[id].waitApplied(c.t, index)
		if got := c.sms[id].payloads(c.t); !slices.Equal(got, want) {
			c.t.Fatalf("node %d holds %d payloads %v, want %d", id, len(got), got, len(want))
		}
	}
}

func TestClusterReplicatesAndFailsOver(t *testing.T) {
	c := newTestCluster(t, 3, 10000)
	leader := c.waitLeader(0)
	follower := leader%3 + 1
	if _, err := c.nodes[follower].Propose(context.Background(), []byte("x")); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("Propose on follower %d: %v, want ErrNotLeader", follower, err)
	}
	if got := c.nodes[follower].Leader(); got != leader {
		t.Fatalf("follower's Leader() = %d, want %d", got, leader)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if got, err := c.nodes[follower].WaitLeader(ctx); err != nil || got != leader {
		t.Fatalf("WaitLeader = %d, %v; want %d", got, err, leader)
	}

	failOver(t, c, leader)
}

// failOver has leader replicate 40 entries, stops it, has the next leader
// replicate 40 more, then restarts the old leader, which catches up as a
// follower: every node holds all 80, in order.
func failOver(t *testing.T, c *testCluster, leader uint64) {
	t.Helper()
	want := payloadList(0, 40)
	var last uint64
	for _, p := range want {
		last = propose(t, c.nodes[leader], p)
	}
	c.checkSame(last, want)

	c.stop(leader)
	next := c.waitLeader(leader)
	more := payloadList(40, 80)
	for _, p := range more {
		last = propose(t, c.nodes[next], p)
	}
	c.checkSame(last, append(want, more...))

	// The old leader rejoins as a follower and catches up.
	c.start(leader)
	c.waitLeader(0)
	c.checkSame(last, append(want, more...))
}

func TestClusterFollowerCatchesUpFromSnapshot(t *testing.T) {
	c := newTestCluster(t, 3, 20)
	leader := c.waitLeader(0)
	lagger := leader%3 + 1
	var last uint64
	for _, p := range payloadList(0, 10) {
		last = propose(t, c.nodes[leader], p)
	}
	c.checkSame(last, payloadList(0, 10))
	c.stop(lagger)

	// The leader compacts its log past everything the lagger has.
	for _, p := range payloadList(10, 100) {
		last = propose(t, c.nodes[leader], p)
	}
	c.start(lagger)
	c.checkSame(last, payloadList(0, 100))
	_, _, restores, _ := c.sms[lagger].state()
	if len(restores) == 0 {
		t.Fatal("lagging follower caught up without a snapshot")
	}
}

func TestLeaderWithoutQuorumFailsProposal(t *testing.T) {
	c := newTestCluster(t, 3, 10000)
	leader := c.waitLeader(0)
	for id := range c.nodes {
		if id != leader {
			c.stop(id)
		}
	}
	// The entry cannot commit; CheckQuorum makes the leader step down
	// within an election timeout and the waiting proposal learns it.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := c.nodes[leader].Propose(ctx, []byte("orphan")); !errors.Is(err, ErrLeadershipLost) && !errors.Is(err, ErrNotLeader) {
		t.Fatalf("Propose without a quorum: %v, want ErrLeadershipLost", err)
	}
	for {
		id, changed := c.nodes[leader].LeaderWatch()
		if id != leader {
			return
		}
		select {
		case <-changed:
		case <-ctx.Done():
			t.Fatalf("node %d still leads without a quorum", leader)
		}
	}
}
