package raft

import (
	"context"
	"testing"
)

// BenchmarkProposeSingleVoter measures one sequential proposal on a
// one-voter quorum: one WAL fsync plus the apply.
func BenchmarkProposeSingleVoter(b *testing.B) {
	n, err := Open(singleConfig(b.TempDir()), newTestSM())
	if err != nil {
		b.Fatal(err)
	}
	defer n.Close()
	data := make([]byte, 256)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := n.Propose(ctx, data); err != nil {
			b.Fatal(err)
		}
	}
}
