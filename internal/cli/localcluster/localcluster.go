// Package localcluster starts and stops a cluster of `sluice serve`
// processes on loopback, each with its data and log in a folder of its
// own: `sluice dev cluster` keeps one running until Ctrl-C, and
// `sluice bench --cluster` measures one it starts for the run.
package localcluster

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
)

// MaxNodes bounds a local cluster: a developer's cluster, not a load test.
const MaxNodes = 9

// maxVoters is how many nodes are controllers too; the rest are brokers
// that follow them (Kafka's advice: three controllers).
const maxVoters = 3

// Node is one node of a plan.
type Node struct {
	ID         int
	Kafka      string // host:port
	Controller string // host:port, "" for a broker only
	Dir        string
	Args       []string // sluice's arguments: serve and its settings
}

// Plan lays out n nodes under dir: addresses, folders and serve flags.
// The first three are controllers and brokers, the others brokers only;
// topics default to replication factor min(n, 3) with min.insync.replicas
// 2 (1 below three nodes). Node i listens for Kafka clients on basePort +
// 2(i-1) and, if it is a controller, on the port after it; basePort 0
// picks free ports.
func Plan(n int, dir string, basePort int) ([]Node, error) {
	port := func(i int) (int, error) {
		if basePort > 0 {
			return basePort + i, nil
		}
		return freePort()
	}
	voters := min(n, maxVoters)
	nodes := make([]Node, n)
	var quorum []string
	for i := range nodes {
		nd := &nodes[i]
		nd.ID = i + 1
		nd.Dir = filepath.Join(dir, fmt.Sprintf("node-%d", nd.ID))
		p, err := port(2 * i)
		if err != nil {
			return nil, err
		}
		nd.Kafka = fmt.Sprintf("127.0.0.1:%d", p)
		if nd.ID <= voters {
			if p, err = port(2*i + 1); err != nil {
				return nil, err
			}
			nd.Controller = fmt.Sprintf("127.0.0.1:%d", p)
			quorum = append(quorum, fmt.Sprintf("%d@%s", nd.ID, nd.Controller))
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
			fmt.Sprintf("node.id=%d", nd.ID),
			"controller.quorum.voters=" + strings.Join(quorum, ","),
			"log.dirs=" + filepath.Join(nd.Dir, "data"),
			fmt.Sprintf("default.replication.factor=%d", rf),
			fmt.Sprintf("offsets.topic.replication.factor=%d", rf),
			fmt.Sprintf("transaction.state.log.replication.factor=%d", rf),
			fmt.Sprintf("min.insync.replicas=%d", minISR),
			fmt.Sprintf("transaction.state.log.min.isr=%d", minISR),
		}
		if nd.Controller != "" {
			set = append(set, "process.roles=broker,controller",
				fmt.Sprintf("listeners=PLAINTEXT://%s,CONTROLLER://%s", nd.Kafka, nd.Controller))
		} else {
			set = append(set, "process.roles=broker", "listeners=PLAINTEXT://"+nd.Kafka)
		}
		nd.Args = []string{"serve"}
		for _, s := range set {
			nd.Args = append(nd.Args, "--set", s)
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

// Running is a started node.
type Running struct {
	Node
	Cmd    *exec.Cmd
	log    *os.File
	exited chan struct{}
}

// Exited is closed when the node's process has ended.
func (r *Running) Exited() <-chan struct{} { return r.exited }

// LogPath is the file the node's output goes to.
func (r *Running) LogPath() string { return filepath.Join(r.Dir, "sluice.log") }

// Cluster is a started plan.
type Cluster struct {
	Nodes []*Running
}

// Start starts every node of plan with the sluice binary exe and waits
// until each accepts Kafka connections. On an error the nodes started
// are stopped.
func Start(ctx context.Context, exe string, plan []Node) (*Cluster, error) {
	c := &Cluster{}
	if err := c.start(ctx, exe, plan); err != nil {
		c.Stop(io.Discard)
		return nil, err
	}
	return c, nil
}

func (c *Cluster) start(ctx context.Context, exe string, plan []Node) error {
	for _, nd := range plan {
		if err := os.MkdirAll(nd.Dir, 0o755); err != nil {
			return fmt.Errorf("node %d folder: %w", nd.ID, err)
		}
		f, err := os.OpenFile(filepath.Join(nd.Dir, "sluice.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("node %d log: %w", nd.ID, err)
		}
		cmd := exec.Command(exe, nd.Args...)
		cmd.Stdout, cmd.Stderr = f, f
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // Ctrl-C reaches them through us, in order
		if err := cmd.Start(); err != nil {
			f.Close()
			return fmt.Errorf("start node %d: %w", nd.ID, err)
		}
		r := &Running{Node: nd, Cmd: cmd, log: f, exited: make(chan struct{})}
		go func() {
			cmd.Wait()
			close(r.exited)
		}()
		c.Nodes = append(c.Nodes, r)
	}
	for _, r := range c.Nodes {
		if err := waitServing(ctx, r); err != nil {
			return err
		}
	}
	return nil
}

// Bootstrap lists the nodes' Kafka addresses.
func (c *Cluster) Bootstrap() []string {
	var out []string
	for _, r := range c.Nodes {
		out = append(out, r.Kafka)
	}
	return out
}

// waitServing waits until r's Kafka port accepts connections.
func waitServing(ctx context.Context, r *Running) error {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		select {
		case <-r.exited:
			return fmt.Errorf("node %d exited during start (%v): see %s", r.ID, r.Cmd.ProcessState, r.LogPath())
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if c, err := net.DialTimeout("tcp", r.Kafka, time.Second); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond) // polling another process's port: no event to wait on
	}
	return fmt.Errorf("node %d did not serve on %s within a minute: see %s", r.ID, r.Kafka, r.LogPath())
}

// Stop stops the nodes with SIGTERM, each shutting down cleanly: the
// brokers that are not controllers first, while the quorum can still
// move their partitions, then the controllers together. A node that has
// not stopped after 30 s is killed. It reports on out and returns what
// went wrong.
func (c *Cluster) Stop(out io.Writer) error {
	var brokers, voters []*Running
	for _, r := range c.Nodes {
		if r.Controller == "" {
			brokers = append(brokers, r)
		} else {
			voters = append(voters, r)
		}
	}
	errs := stopWave(brokers)
	errs = append(errs, stopWave(voters)...)
	if len(c.Nodes) > 0 {
		fmt.Fprintf(out, "stopped %d nodes\n", len(c.Nodes))
	}
	return errors.Join(errs...)
}

func stopWave(rs []*Running) []error {
	for _, r := range rs {
		r.Cmd.Process.Signal(syscall.SIGTERM)
	}
	var errs []error
	for _, r := range rs {
		select {
		case <-r.exited:
		case <-time.After(30 * time.Second):
			r.Cmd.Process.Kill()
			<-r.exited
			errs = append(errs, fmt.Errorf("node %d did not stop within 30 s and was killed", r.ID))
		}
		r.log.Close()
	}
	return errs
}
