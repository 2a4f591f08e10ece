package e2e

import (
	"strings"
	"testing"
	"time"
)

// TestConfluentCooperativeSticky: confluent-kafka consumers with
// partition.assignment.strategy=cooperative-sticky (KIP-429 over the
// classic protocol). Two split a 6-partition topic, a third joins while
// records are produced: the rebalance only moves the partitions the third
// gets (on_assign / on_revoke see increments, the first two never lose
// everything), and every record is read exactly once
// (testdata/coop_sticky.py checks it all).
func TestConfluentCooperativeSticky(t *testing.T) {
	t.Parallel()
	b := startBroker(t, groupSettings...)
	out := run(t, 2*time.Minute, nil, "/usr/bin/python3", "testdata/coop_sticky.py", b.Addr, "coop")
	if strings.TrimSpace(out) != "ok" {
		t.Fatalf("coop_sticky.py printed %q", out)
	}
}
