package cluster

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
	"go.uber.org/goleak"

	"github.com/sluice-io/sluice/internal/cli/clientcmd/clientcmdtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestInfo(t *testing.T) {
	cfg := clientcmdtest.NewCluster(t, kfake.ClusterID("test-cluster"), kfake.SeedTopics(1, "a", "b"))
	addr := cfg.Brokers()[0] // kfake advertises its listen address

	out := clientcmdtest.MustRun(t, cfg, New, "", "info")
	for _, want := range []string{"CLUSTER     test-cluster\n", "CONTROLLER  0\n", "TOPICS      2 (0 internal)\n", "BROKER  ADDRESS"} {
		if !strings.Contains(out, want) {
			t.Errorf("info lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(out, "\n0       "+addr+"  ") {
		t.Errorf("info lacks broker 0 at %s:\n%s", addr, out)
	}

	var in info
	if err := json.Unmarshal([]byte(clientcmdtest.MustRun(t, cfg, New, "", "info", "--json")), &in); err != nil {
		t.Fatal(err)
	}
	if in.ClusterID != "test-cluster" || in.Controller != 0 || in.Topics != 2 ||
		len(in.Brokers) != 1 || in.Brokers[0].ID != 0 || in.Brokers[0].Addr != addr {
		t.Errorf("info --json = %+v, want cluster test-cluster, controller 0, 2 topics, broker 0 at %s", in, addr)
	}
}
