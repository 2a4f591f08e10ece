package dev

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sluice-io/sluice/internal/cli/clientcmd"
	"github.com/sluice-io/sluice/internal/cli/localcluster"
)

func newCluster() *cobra.Command {
	var (
		nodes    int
		dir      string
		basePort int
	)
	c := &cobra.Command{
		Use:   "cluster",
		Short: "Start a local cluster of Sluice nodes on loopback; Ctrl-C stops it",
		Long: `Start a cluster of --nodes sluice serve processes on 127.0.0.1, each
with its data and log under --dir, print the bootstrap servers, and stop
every node on Ctrl-C (SIGTERM). The first three nodes are controllers and
brokers (a metadata quorum of three voters), the others brokers only.
Topics default to replication factor min(nodes, 3) with
min.insync.replicas 2 (1 below three nodes). Node i listens for Kafka
clients on --base-port + 2(i-1) and, if it is a controller, on the port
after it for the quorum; --base-port 0 picks free ports.`,
		Example: `  sluice dev cluster
  sluice dev cluster --nodes 5 --dir /tmp/sluice-dev --base-port 29092`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if nodes < 1 || nodes > localcluster.MaxNodes {
				return clientcmd.Usagef("--nodes %d: give 1 to %d", nodes, localcluster.MaxNodes)
			}
			if basePort < 0 || basePort+2*nodes > 65535 {
				return clientcmd.Usagef("--base-port %d: give 0 (free ports) or a port with %d ports free above it", basePort, 2*nodes)
			}
			exe, err := os.Executable()
			if err != nil {
				return fmt.Errorf("find the sluice binary to run: %w", err)
			}
			plan, err := localcluster.Plan(nodes, dir, basePort)
			if err != nil {
				return err
			}
			return runCluster(cmd.Context(), cmd.OutOrStdout(), exe, plan)
		},
	}
	c.Flags().IntVarP(&nodes, "nodes", "n", 3, "number of nodes (1 to 9)")
	c.Flags().StringVar(&dir, "dir", "sluice-dev-cluster", "folder for every node's data and log (node-<id>/)")
	c.Flags().IntVar(&basePort, "base-port", 19092, "Kafka port of node 1; node i uses base+2(i-1) and the next one; 0 picks free ports")
	return c
}

// runCluster starts the nodes, waits until each serves, prints the
// bootstrap servers and waits for ctx (Ctrl-C); then it stops them.
func runCluster(ctx context.Context, out io.Writer, exe string, plan []localcluster.Node) error {
	c, err := localcluster.Start(ctx, exe, plan)
	if err != nil {
		return err
	}
	defer func() {
		if err := c.Stop(out); err != nil {
			fmt.Fprintln(out, err)
		}
	}()
	for _, r := range c.Nodes {
		role := "broker"
		if r.Controller != "" {
			role = "broker+controller, quorum on " + r.Controller
		}
		fmt.Fprintf(out, "node %d  %s  pid %d  (%s)  log %s\n", r.ID, r.Kafka, r.Cmd.Process.Pid, role, r.LogPath())
	}
	bootstrap := c.Bootstrap()
	fmt.Fprintf(out, "\nbootstrap servers: %s\n", strings.Join(bootstrap, ","))
	fmt.Fprintf(out, "try:  sluice -b %s cluster info\nCtrl-C stops every node.\n", bootstrap[0])
	for _, r := range c.Nodes {
		go func() {
			select {
			case <-r.Exited():
				if ctx.Err() == nil {
					fmt.Fprintf(out, "node %d exited (%v); the others keep running\n", r.ID, r.Cmd.ProcessState)
				}
			case <-ctx.Done():
			}
		}()
	}
	<-ctx.Done()
	return nil
}
