package faults

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-io/sluice/tests/brokerproc"
)

// Cluster is n combined nodes (node ids 1..n, every one a voter) whose
// every connection goes through a Proxy: the Kafka listener of node i is
// advertised at kafka[i]'s address (clients and the other brokers'
// replica fetchers come through it), and node i reaches voter j's
// CONTROLLER listener through ctl[i][j] (raft, heartbeats, the metadata
// log). Cutting node i blackholes kafka[i] and every ctl proxy to and from
// it.
type Cluster struct {
	t     testing.TB
	Nodes []*brokerproc.Broker
	kafka []*Proxy
	ctl   [][]*Proxy // ctl[i][j]: from node i+1 to node j+1's CONTROLLER listener; nil when i == j
}

// Settings every node of the suite runs with: short sessions so that a
// lost broker is fenced within seconds, Kafka's strict durability
// settings for three replicas.
var clusterSettings = []string{
	"broker.session.timeout.ms=1500",
	"broker.heartbeat.interval.ms=300",
	"replica.lag.time.max.ms=3000",
	"default.replication.factor=3",
	"min.insync.replicas=2",
	"offsets.topic.replication.factor=3",
	"transaction.state.log.replication.factor=3",
	"transaction.state.log.min.isr=2",
	"num.partitions=3",
	"group.initial.rebalance.delay.ms=0",
}

// StartCluster starts n nodes behind their proxies.
func StartCluster(t testing.TB, bin string, n int) *Cluster {
	t.Helper()
	c := &Cluster{t: t, kafka: make([]*Proxy, n), ctl: make([][]*Proxy, n)}
	kafkaAddr := make([]string, n)
	ctlAddr := make([]string, n)
	for i := range n {
		kafkaAddr[i] = fmt.Sprintf("127.0.0.1:%d", brokerproc.FreePort(t))
		ctlAddr[i] = fmt.Sprintf("127.0.0.1:%d", brokerproc.FreePort(t))
		c.kafka[i] = c.proxy(kafkaAddr[i])
	}
	for i := range n {
		c.ctl[i] = make([]*Proxy, n)
		for j := range n {
			if i != j {
				c.ctl[i][j] = c.proxy(ctlAddr[j])
			}
		}
	}
	specs := make([]brokerproc.Spec, n)
	for i := range n {
		var voters []string
		for j := range n {
			addr := ctlAddr[j]
			if i != j {
				addr = c.ctl[i][j].Addr()
			}
			voters = append(voters, fmt.Sprintf("%d@%s", j+1, addr))
		}
		specs[i] = brokerproc.Spec{Addr: kafkaAddr[i], ControllerAddr: ctlAddr[i], Settings: append([]string{
			fmt.Sprintf("node.id=%d", i+1),
			fmt.Sprintf("listeners=PLAINTEXT://%s,CONTROLLER://%s", kafkaAddr[i], ctlAddr[i]),
			"advertised.listeners=PLAINTEXT://" + c.kafka[i].Addr(),
			"controller.quorum.voters=" + strings.Join(voters, ","),
		}, clusterSettings...)}
	}
	c.Nodes = brokerproc.StartNodes(t, bin, specs, brokerproc.Options{StartTimeout: 60 * time.Second})
	return c
}

func (c *Cluster) proxy(target string) *Proxy {
	p, err := NewProxy(target)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(p.Close)
	return p
}

// Bootstrap is every node's advertised (proxied) Kafka address.
func (c *Cluster) Bootstrap() []string {
	out := make([]string, len(c.kafka))
	for i, p := range c.kafka {
		out[i] = p.Addr()
	}
	return out
}

// Cut isolates node i (index): nobody reaches its Kafka listener, and its
// controller traffic is blackholed both ways. Its own connections to the
// other brokers' Kafka listeners stay up (a one-way cut of the data
// plane: it can still fetch, nobody can fetch from it).
func (c *Cluster) Cut(i int) {
	c.kafka[i].Blackhole()
	for j := range c.ctl {
		if j != i {
			c.ctl[i][j].Blackhole()
			c.ctl[j][i].Blackhole()
		}
	}
}

// CutOneWay cuts node i (index) in one direction: out drops everything
// it sends (answers on its Kafka listener, its controller requests and
// raft messages, its answers as a voter) while it still receives; !out
// drops everything sent to it while what it sends still arrives (its
// heartbeats reach the controller, which keeps its session). Heal ends
// either.
func (c *Cluster) CutOneWay(i int, out bool) {
	from, to := FromTarget, ToTarget // what node i sends through a proxy it is the target of, and through one it connects by
	if !out {
		from, to = ToTarget, FromTarget
	}
	c.kafka[i].BlackholeOneWay(from)
	for j := range c.ctl {
		if j != i {
			c.ctl[i][j].BlackholeOneWay(to)
			c.ctl[j][i].BlackholeOneWay(from)
		}
	}
}

// Heal ends Cut(i) and CutOneWay(i).
func (c *Cluster) Heal(i int) {
	c.kafka[i].Heal()
	for j := range c.ctl {
		if j != i {
			c.ctl[i][j].Heal()
			c.ctl[j][i].Heal()
		}
	}
}

// ActiveController asks the live voters for the quorum's leader (node
// id), 0 when none answers.
func (c *Cluster) ActiveController(ctx context.Context) int32 {
	for _, b := range c.Nodes {
		if !b.Alive() {
			continue
		}
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		id, err := brokerproc.QuorumLeader(rctx, b.ControllerAddr)
		cancel()
		if err == nil && id > 0 {
			return id
		}
	}
	return 0
}

// Healthy waits until every partition of topics has its full replica set
// in sync and a leader, as every node answers (each node asked through
// its own address, not the proxy), or ctx ends.
func (c *Cluster) Healthy(ctx context.Context, topics ...string) error {
	for {
		err := c.healthy(ctx, topics)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster not healthy: %w", err)
		case <-time.After(200 * time.Millisecond): // other processes' state: no event to wait on
		}
	}
}

func (c *Cluster) healthy(ctx context.Context, topics []string) error {
	for i, b := range c.Nodes {
		cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr))
		if err != nil {
			return err
		}
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		md, err := kadm.NewClient(cl).Metadata(rctx, topics...)
		cancel()
		cl.Close()
		if err != nil {
			return fmt.Errorf("node %d: %w", i+1, err)
		}
		if len(md.Brokers) != len(c.Nodes) {
			return fmt.Errorf("node %d sees %d brokers", i+1, len(md.Brokers))
		}
		for _, td := range md.Topics {
			if td.Err != nil {
				return fmt.Errorf("node %d: topic %s: %w", i+1, td.Topic, td.Err)
			}
			for _, p := range td.Partitions {
				if p.Leader < 0 || len(p.ISR) != len(p.Replicas) {
					return fmt.Errorf("node %d: %s/%d leader %d ISR %v of %v", i+1, td.Topic, p.Partition, p.Leader, p.ISR, p.Replicas)
				}
			}
		}
	}
	return nil
}

// Leader is the node id leading topic/partition as node index i answers,
// -1 unknown.
func (c *Cluster) Leader(ctx context.Context, topic string, partition int32) int32 {
	for _, b := range c.Nodes {
		if !b.Alive() {
			continue
		}
		cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr))
		if err != nil {
			continue
		}
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		md, err := kadm.NewClient(cl).Metadata(rctx, topic)
		cancel()
		cl.Close()
		if err != nil {
			continue
		}
		if p, ok := md.Topics[topic].Partitions[partition]; ok && p.Leader >= 0 {
			return p.Leader
		}
	}
	return -1
}

// SaveLogs writes every node's whole log (all its runs) to a file in the
// temporary directory and names the files in the test's log.
func (c *Cluster) SaveLogs() {
	stamp := time.Now().Format("150405")
	for i, b := range c.Nodes {
		path := filepath.Join(os.TempDir(), fmt.Sprintf("sluice-faults-%s-node%d.log", stamp, i+1))
		if err := os.WriteFile(path, []byte(b.Log()), 0o644); err != nil {
			c.t.Logf("save the log of node %d: %v", i+1, err)
			continue
		}
		c.t.Logf("node %d's log: %s", i+1, path)
	}
}
