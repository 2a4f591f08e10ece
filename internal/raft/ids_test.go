package raft

import (
	"testing"

	"github.com/sluice-io/sluice/internal/model"
)

func TestPeerIDRoundTrip(t *testing.T) {
	for _, n := range []model.NodeID{0, 1, 2, 3, 1000, 1<<31 - 1} {
		id := PeerID(n)
		if id == 0 {
			t.Fatalf("node %d has raft id 0 (none)", n)
		}
		if back := NodeOf(id); back != n {
			t.Fatalf("node %d -> raft %d -> node %d", n, id, back)
		}
	}
	if NodeOf(0) != -1 {
		t.Fatalf("raft id 0 (no leader) is node %d, want -1", NodeOf(0))
	}
	if PeerID(1) != 1 {
		t.Fatal("node 1 changed raft id: existing quorums would not open")
	}
}
