package dev

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/sluice-io/sluice/internal/cli/clientcmd"
)

// maxNodes bounds --nodes: a local cluster, not a load test.
const maxNodes = 9

// maxVoters is how many nodes are controllers too; the rest are brokers
// that follow them (Kafka's advice: three controllers).
const maxVoters = 3

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
			if nodes < 1 || nodes > maxNodes {
				return clientcmd.Usagef("--nodes %d: give 1 to %d", nodes, maxNodes)
			}
			if basePort < 0 || basePort+2*nodes > 65535 {
				return clientcmd.Usagef("--base-port %d: give 0 (free ports) or a port with %d ports free above it", basePort, 2*nodes)
			}
			exe, err := os.Executable()
			if err != nil {
				return fmt.Errorf("find the sluice binary to run: %w", err)
			}
			plan, err := planCluster(nodes, dir, basePort)
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

// devNode is one node of the plan.
type devNode struct {
	id         int
	kafka      string // host:port
	controller string // host:port, "" for a broker only
	dir        string
	args       []string
}

// planCluster lays out the nodes: addresses, folders and serve flags.
func planCluster(n int, dir string, basePort int) ([]devNode, error) {
	port := func(i int) (int, error) {
		if basePort > 0 {
			return basePort + i, nil
		}
		return freePort()
	}
	voters := min(n, maxVoters)
	nodes := make([]devNode, n)
	var quorum []string
	for i := range nodes {
		nd := &nodes[i]
		nd.id = i + 1
		nd.dir = filepath.Join(dir, fmt.Sprintf("node-%d", nd.id))
		p, err := port(2 * i)
		if err != nil {
			return nil, err
		}
		nd.kafka = fmt.Sprintf("127.0.0.1:%d", p)
		if nd.id <= voters {
			if p, err = port(2*i + 1); err != nil {
				return nil, err
			}
			nd.controller = fmt.Sprintf("127.0.0.1:%d", p)
			quorum = append(quorum, fmt.Sprintf("%d@%s", nd.id, nd.controller))
		}
	}
	rf := min(n, 3)
	minISR := 2
	if rf < 3 {
		minISR = 1
	}
	for i := range nodes {
		nd := &nodes[i]
		set := []string{
			fmt.Sprintf("node.id=%d", nd.id),
			"controller.quorum.voters=" + strings.Join(quorum, ","),
			"log.dirs=" + filepath.Join(nd.dir, "data"),
			fmt.Sprintf("default.replication.factor=%d", rf),
			fmt.Sprintf("offsets.topic.replication.factor=%d", rf),
			fmt.Sprintf("transaction.state.log.replication.factor=%d", rf),
			fmt.Sprintf("min.insync.replicas=%d", minISR),
			fmt.Sprintf("transaction.state.log.min.isr=%d", minISR),
		}
		if nd.controller != "" {
			set = append(set, "process.roles=broker,controller",
				fmt.Sprintf("listeners=PLAINTEXT://%s,CONTROLLER://%s", nd.kafka, nd.controller))
		} else {
			set = append(set, "process.roles=broker", "listeners=PLAINTEXT://"+nd.kafka)
		}
		nd.args = []string{"serve"}
		for _, s := range set {
			nd.args = append(nd.args, "--set", s)
		}
	}
	return nodes, nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// running is a started node.
type running struct {
	devNode
	cmd    *exec.Cmd
	log    *os.File
	exited chan struct{}
}

// runCluster starts the nodes, waits until each serves, prints the
// bootstrap servers and waits for ctx (Ctrl-C); then it stops them.
func runCluster(ctx context.Context, out io.Writer, exe string, plan []devNode) error {
	var rs []*running
	defer func() { stopAll(out, rs) }()
	for _, nd := range plan {
		if err := os.MkdirAll(nd.dir, 0o755); err != nil {
			return fmt.Errorf("node %d folder: %w", nd.id, err)
		}
		logPath := filepath.Join(nd.dir, "sluice.log")
		f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("node %d log: %w", nd.id, err)
		}
		cmd := exec.Command(exe, nd.args...)
		cmd.Stdout, cmd.Stderr = f, f
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // Ctrl-C reaches them through us, in order
		if err := cmd.Start(); err != nil {
			f.Close()
			return fmt.Errorf("start node %d: %w", nd.id, err)
		}
		r := &running{devNode: nd, cmd: cmd, log: f, exited: make(chan struct{})}
		go func() {
			cmd.Wait()
			close(r.exited)
		}()
		rs = append(rs, r)
	}
	for _, r := range rs {
		if err := waitServing(ctx, r); err != nil {
			return err
		}
	}
	var bootstrap []string
	for _, r := range rs {
		role := "broker"
		if r.controller != "" {
			role = "broker+controller, quorum on " + r.controller
		}
		fmt.Fprintf(out, "node %d  %s  pid %d  (%s)  log %s\n", r.id, r.kafka, r.cmd.Process.Pid, role, filepath.Join(r.dir, "sluice.log"))
		bootstrap = append(bootstrap, r.kafka)
	}
	fmt.Fprintf(out, "\nbootstrap servers: %s\n", strings.Join(bootstrap, ","))
	fmt.Fprintf(out, "try:  sluice -b %s cluster info\nCtrl-C stops every node.\n", bootstrap[0])
	for _, r := range rs {
		go func() {
			select {
			case <-r.exited:
				if ctx.Err() == nil {
					fmt.Fprintf(out, "node %d exited (%v); the others keep running\n", r.id, r.cmd.ProcessState)
				}
			case <-ctx.Done():
			}
		}()
	}
	<-ctx.Done()
	return nil
}

// waitServing waits until r's Kafka port accepts connections.
func waitServing(ctx context.Context, r *running) error {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		select {
		case <-r.exited:
			return fmt.Errorf("node %d exited during start (%v): see %s", r.id, r.cmd.ProcessState, r.log.Name())
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if c, err := net.DialTimeout("tcp", r.kafka, time.Second); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond) // polling another process's port: no event to wait on
	}
	return fmt.Errorf("node %d did not serve on %s within a minute: see %s", r.id, r.kafka, r.log.Name())
}

// stopAll stops the nodes with SIGTERM, each shutting down cleanly: the
// brokers that are not controllers first, while the quorum can still
// move their partitions, then the controllers together. A node that has
// not stopped after 30 s is killed.
func stopAll(out io.Writer, rs []*running) {
	var brokers, voters []*running
	for _, r := range rs {
		if r.controller == "" {
			brokers = append(brokers, r)
		} else {
			voters = append(voters, r)
		}
	}
	errs := stopWave(brokers)
	errs = append(errs, stopWave(voters)...)
	if len(rs) > 0 {
		fmt.Fprintf(out, "stopped %d nodes\n", len(rs))
	}
	if err := errors.Join(errs...); err != nil {
		fmt.Fprintln(out, err)
	}
}

func stopWave(rs []*running) []error {
	for _, r := range rs {
		r.cmd.Process.Signal(syscall.SIGTERM)
	}
	var errs []error
	for _, r := range rs {
		select {
		case <-r.exited:
		case <-time.After(30 * time.Second):
			r.cmd.Process.Kill()
			<-r.exited
			errs = append(errs, fmt.Errorf("node %d did not stop within 30 s and was killed", r.id))
		}
		r.log.Close()
	}
	return errs
}
