package raft

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// Three voters over TCP elect a leader, replicate, fail over when the
// leader stops, and take the old leader back as a follower that catches
// up, as over the in-memory network.
func TestTCPTransportElectsAndFailsOver(t *testing.T) {
	c := newTCPCluster(t, 3, 10000)
	failOver(t, c, c.waitLeader(0))
}

// A lagging voter catches up from a snapshot sent over TCP.
func TestTCPTransportSendsSnapshots(t *testing.T) {
	c := newTCPCluster(t, 3, 20)
	leader := c.waitLeader(0)
	lagger := leader%3 + 1
	c.stop(lagger)
	var last uint64
	for _, p := range payloadList(0, 100) {
		last = propose(t, c.nodes[leader], p)
	}
	c.start(lagger)
	c.checkSame(last, payloadList(0, 100))
	if _, _, restores, _ := c.sms[lagger].state(); len(restores) == 0 {
		t.Fatal("lagging voter caught up without a snapshot")
	}
}

// A new leader may compute from its state only once it applied an entry
// of its own term (I6), and a proposal computed in an earlier term is
// refused.
func TestLeaderTermGatesProposals(t *testing.T) {
	c := newTCPCluster(t, 3, 10000)
	leader := c.waitLeader(0)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	term := waitLeaderTerm(ctx, t, c.nodes[leader])
	if _, ok := c.nodes[leader%3+1].LeaderTerm(); ok {
		t.Fatal("a follower reports a leader term")
	}
	if _, err := c.nodes[leader].ProposeInTerm(ctx, term, []byte("a")); err != nil {
		t.Fatalf("ProposeInTerm in the current term: %v", err)
	}
	c.stop(leader)
	next := c.waitLeader(leader)
	nextTerm := waitLeaderTerm(ctx, t, c.nodes[next])
	if nextTerm <= term {
		t.Fatalf("new leader's term %d, old %d", nextTerm, term)
	}
	if _, err := c.nodes[next].ProposeInTerm(ctx, term, []byte("stale")); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("ProposeInTerm with the old term: %v, want ErrNotLeader", err)
	}
	idx := propose(t, c.nodes[next], "b")
	c.checkSame(idx, []string{"a", "b"})
}

func waitLeaderTerm(ctx context.Context, t *testing.T, n *Node) uint64 {
	t.Helper()
	for {
		_, changed := n.LeaderWatch()
		if term, ok := n.LeaderTerm(); ok {
			return term
		}
		select {
		case <-changed:
		case <-ctx.Done():
			t.Fatal("leader never applied an entry of its term")
		}
	}
}

// A connection that is not raft comes out of the split listener's Accept
// with its first bytes intact.
func TestSplitListenerPassesKafkaConnections(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan net.Conn, 1)
	sl := SplitListener(ln, func(c net.Conn) { served <- c }, quietLogger())
	defer sl.Close()
	msg := []byte("\x00\x00\x00\x0bkafka bytes")
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	got, err := sl.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer got.Close()
	buf := make([]byte, len(msg))
	if _, err := io.ReadFull(got, buf); err != nil || string(buf) != string(msg) {
		t.Fatalf("read %q, %v; want %q", buf, err, msg)
	}

	rc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if _, err := rc.Write([]byte(Preamble)); err != nil {
		t.Fatal(err)
	}
	select {
	case sc := <-served:
		sc.Close()
	case <-time.After(10 * time.Second):
		t.Fatal("a raft connection was not handed to the transport")
	}
	if err := sl.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := sl.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Accept after Close: %v", err)
	}
}
