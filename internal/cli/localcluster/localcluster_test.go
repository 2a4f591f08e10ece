package localcluster

import (
	"slices"
	"strings"
	"testing"
)

// Four nodes: three voters with CONTROLLER listeners on the port after
// their Kafka port, a fourth broker only; every node names the same
// voters, and topics default to three replicas with min ISR 2.
func TestPlanCluster(t *testing.T) {
	plan, err := Plan(4, "/d", 20000)
	if err != nil {
		t.Fatal(err)
	}
	voters := "controller.quorum.voters=1@127.0.0.1:20001,2@127.0.0.1:20003,3@127.0.0.1:20005"
	for i, nd := range plan {
		args := strings.Join(nd.Args, " ")
		for _, want := range []string{voters, "default.replication.factor=3", "min.insync.replicas=2", "log.dirs=/d/node-"} {
			if !strings.Contains(args, want) {
				t.Errorf("node %d args %q lack %q", i+1, args, want)
			}
		}
		if i < 3 && (nd.Controller == "" || !slices.Contains(nd.Args, "process.roles=broker,controller")) {
			t.Errorf("node %d is not a voter: %q", i+1, args)
		}
	}
	if plan[3].Controller != "" || plan[3].Kafka != "127.0.0.1:20006" || !slices.Contains(plan[3].Args, "process.roles=broker") {
		t.Errorf("node 4: %+v", plan[3])
	}
	one, err := Plan(1, "/d", 0)
	if err != nil {
		t.Fatal(err)
	}
	if args := strings.Join(one[0].Args, " "); !strings.Contains(args, "min.insync.replicas=1") || !strings.Contains(args, "default.replication.factor=1") {
		t.Errorf("one node: %q", args)
	}
}
