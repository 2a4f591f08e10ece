package e2e

import (
	"strings"
	"testing"
	"time"
)

// TestConfluentAdmin: confluent-kafka's AdminClient creates, describes,
// alters configs of, adds partitions to and deletes topics.
func TestConfluentAdmin(t *testing.T) {
	t.Parallel()
	b := startBroker(t)
	out := run(t, 2*time.Minute, nil, "/usr/bin/python3", "testdata/admin.py", b.Addr)
	if strings.TrimSpace(out) != "ok" {
		t.Fatalf("admin.py printed %q", out)
	}
}
