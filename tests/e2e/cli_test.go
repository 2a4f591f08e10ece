package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestCLIAgainstRealBroker drives sluice's own client commands against
// sluice serve: topic create/list/describe, produce with keys and headers,
// consume with a format, add-partitions, alter-config, delete, cluster
// info.
func TestCLIAgainstRealBroker(t *testing.T) {
	t.Parallel()
	b := startBroker(t)
	cli := func(stdin string, args ...string) string {
		t.Helper()
		return run(t, time.Minute, strings.NewReader(stdin), sluiceBin, append(args, "--brokers", b.Addr)...)
	}
	cli("", "topic", "create", "clitopic", "-p", "2", "-c", "retention.ms=3600000")
	if out := cli("", "topic", "list"); !strings.Contains(out, "clitopic") {
		t.Fatalf("topic list lacks clitopic:\n%s", out)
	}
	var in, want strings.Builder
	for i := 0; i < 50; i++ {
		fmt.Fprintf(&in, "k%d v%d\n", i, i)
		fmt.Fprintf(&want, "k%d=v%d src=cli\n", i, i)
	}
	cli(in.String(), "produce", "clitopic", "--key-delim", " ", "-H", "src=cli", "-p", "0")
	got := cli("", "consume", "clitopic", "-p", "0", "-o", "start", "-n", "50", "-f", `%k=%v %h\n`)
	if got != want.String() {
		t.Fatalf("consume printed:\n%.400s\nwant:\n%.400s", got, want.String())
	}
	cli("", "topic", "add-partitions", "clitopic", "--num", "4")
	cli("", "topic", "alter-config", "clitopic", "--set", "retention.ms=7200000")
	desc := cli("", "topic", "describe", "clitopic")
	for _, w := range []string{"7200000", "retention.ms"} {
		if !strings.Contains(desc, w) {
			t.Errorf("describe lacks %q:\n%s", w, desc)
		}
	}
	if info := cli("", "cluster", "info"); !strings.Contains(info, b.Addr) {
		t.Errorf("cluster info lacks the broker address:\n%s", info)
	}
	cli("", "topic", "delete", "clitopic")
	if out := cli("", "topic", "list"); strings.Contains(out, "clitopic") {
		t.Fatalf("topic still listed after delete:\n%s", out)
	}
}
