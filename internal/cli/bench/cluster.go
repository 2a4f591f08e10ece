package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sluice-io/sluice/internal/cli/clientcmd"
	"github.com/sluice-io/sluice/internal/cli/localcluster"
)

// --cluster N: the run measures a cluster of N local `sluice serve`
// processes (as `sluice dev cluster` starts them: three voters, topics of
// replication factor min(N, 3), min.insync.replicas 2 from three nodes)
// in a temporary folder, started before the run and stopped and removed
// after it; --kill-after D sends SIGKILL to the leader of the topic's
// partition 0 D into the run, so the result's latencies show the
// failover.

// localCluster is a cluster started for one run.
type localCluster struct {
	c   *localcluster.Cluster
	dir string
	cfg *clientcmd.Config
}

// startCluster starts o.cluster nodes; progress notes go to errw.
func (o *options) startCluster(ctx context.Context, errw io.Writer) (*localCluster, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find the sluice binary to run: %w", err)
	}
	dir, err := os.MkdirTemp("", "sluice-bench-cluster-")
	if err != nil {
		return nil, fmt.Errorf("cluster folder: %w", err)
	}
	plan, err := localcluster.Plan(o.cluster, dir, 0)
	for i := range plan {
		for _, kv := range o.clusterSet {
			plan[i].Args = append(plan[i].Args, "--set", kv)
		}
	}
	if err == nil {
		var c *localcluster.Cluster
		if c, err = localcluster.Start(ctx, exe, plan); err == nil {
			fmt.Fprintf(errw, "started a local cluster of %d nodes: %s\n", o.cluster, strings.Join(c.Bootstrap(), ","))
			return &localCluster{c: c, dir: dir, cfg: &clientcmd.Config{Brokers: c.Bootstrap}}, nil
		}
	}
	os.RemoveAll(dir)
	return nil, err
}

// stop stops the nodes and removes their folder.
func (l *localCluster) stop(errw io.Writer) {
	if err := l.c.Stop(io.Discard); err != nil {
		fmt.Fprintln(errw, err)
	}
	os.RemoveAll(l.dir)
}

// killLeaderAfter kills the leader of topic's partition 0 after d, unless
// ctx ends first.
func (l *localCluster) killLeaderAfter(ctx context.Context, d time.Duration, topic string, errw io.Writer) {
	select {
	case <-ctx.Done():
		return
	case <-time.After(d):
	}
	adm, err := l.cfg.NewAdmin(ctx)
	if err != nil {
		fmt.Fprintf(errw, "--kill-after: %v\n", err)
		return
	}
	defer adm.Close()
	td, err := adm.ListTopics(ctx, topic)
	if err == nil {
		err = td.Error()
	}
	if err != nil {
		fmt.Fprintf(errw, "--kill-after: find the leader of %s: %v\n", topic, err)
		return
	}
	leader := td[topic].Partitions[0].Leader
	for _, r := range l.c.Nodes {
		if int32(r.ID) == leader {
			r.Cmd.Process.Kill()
			fmt.Fprintf(errw, "killed node %d (SIGKILL), the leader of %s-0, %v into the run\n", r.ID, topic, d)
			return
		}
	}
	fmt.Fprintf(errw, "--kill-after: %s-0 has no leader to kill (%d)\n", topic, leader)
}

// addCluster registers --cluster, --cluster-set and --kill-after.
func (o *options) addCluster(c *cobra.Command) {
	f := c.Flags()
	f.IntVar(&o.cluster, "cluster", 0, fmt.Sprintf("start a local cluster of this many sluice nodes (1 to %d) for the run, instead of --brokers, and remove it after", localcluster.MaxNodes))
	f.StringArrayVar(&o.clusterSet, "cluster-set", nil, "with --cluster: a setting for every node, key=value (repeatable), e.g. sluice.write.caching=true")
	f.DurationVar(&o.killAfter, "kill-after", 0, "with --cluster: kill -9 the leader of the topic's partition 0 this long into the run (the latencies show the failover)")
}

// checkCluster validates --cluster and --kill-after.
func (o *options) checkCluster() error {
	switch {
	case o.cluster < 0 || o.cluster > localcluster.MaxNodes:
		return clientcmd.Usagef("--cluster %d: give 1 to %d nodes (0: use --brokers)", o.cluster, localcluster.MaxNodes)
	case o.killAfter < 0:
		return clientcmd.Usagef("--kill-after %v: want > 0", o.killAfter)
	case o.killAfter > 0 && o.cluster < 2:
		return clientcmd.Usagef("--kill-after needs --cluster with 2 nodes or more (a leader to lose and one to take over)")
	case len(o.clusterSet) > 0 && o.cluster == 0:
		return clientcmd.Usagef("--cluster-set needs --cluster (it sets the nodes bench starts)")
	}
	for _, kv := range o.clusterSet {
		if k, _, ok := strings.Cut(kv, "="); !ok || strings.TrimSpace(k) == "" {
			return clientcmd.Usagef("--cluster-set %q: want key=value, e.g. --cluster-set sluice.write.caching=true", kv)
		}
	}
	return nil
}
