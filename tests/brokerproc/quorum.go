package brokerproc

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/controller"
)

// StartQuorum starts n combined nodes (process.roles=broker,controller,
// node ids 1..n), every one a voter of controller.quorum.voters, with
// o.Settings added to each, and waits until all accept connections (each
// serves once the quorum elected a leader, so they start together). They
// are stopped when the test ends.
func StartQuorum(t testing.TB, bin string, n int, o Options) []*Broker {
	t.Helper()
	return StartQuorumFrom(t, bin, 1, n, o)
}

// StartQuorumFrom is StartQuorum with node ids first..first+n-1 (Kafka
// allows node.id 0).
func StartQuorumFrom(t testing.TB, bin string, first, n int, o Options) []*Broker {
	t.Helper()
	specs := make([]Spec, n)
	voters := make([]string, n)
	for i := range specs {
		specs[i] = Spec{Addr: fmt.Sprintf("127.0.0.1:%d", FreePort(t)), ControllerAddr: fmt.Sprintf("127.0.0.1:%d", FreePort(t))}
		voters[i] = fmt.Sprintf("%d@%s", first+i, specs[i].ControllerAddr)
	}
	for i := range specs {
		specs[i].Settings = append([]string{
			fmt.Sprintf("listeners=PLAINTEXT://%s,CONTROLLER://%s", specs[i].Addr, specs[i].ControllerAddr),
			fmt.Sprintf("node.id=%d", first+i),
			"controller.quorum.voters=" + strings.Join(voters, ","),
		}, o.Settings...)
	}
	return StartNodes(t, bin, specs, o)
}

// Spec is one node of StartNodes: where its listeners are and every
// setting but log.dirs.
type Spec struct {
	Addr           string // the Kafka listener's bound address (readiness is checked there)
	ControllerAddr string // the CONTROLLER listener's, "" for none
	Settings       []string
}

// StartNodes starts one node per spec, each with its own temp data dir
// and Wrap/StartTimeout from o, all at once, and waits until every one
// accepts connections. They are stopped when the test ends.
func StartNodes(t testing.TB, bin string, specs []Spec, o Options) []*Broker {
	t.Helper()
	bs := make([]*Broker, len(specs))
	for i, s := range specs {
		b := &Broker{t: t, bin: bin, o: o, DataDir: t.TempDir(), Addr: s.Addr, ControllerAddr: s.ControllerAddr}
		b.args = []string{"serve", "--set", "log.dirs=" + b.DataDir}
		for _, kv := range s.Settings {
			b.args = append(b.args, "--set", kv)
		}
		b.launch()
		b.stopAtCleanup()
		bs[i] = b
	}
	for _, b := range bs {
		b.waitReady()
	}
	for _, b := range bs {
		b.waitBrokers(len(bs))
	}
	return bs
}

// waitBrokers waits until the broker's Metadata lists n brokers: its
// port accepts before it has registered, and a request made before every
// broker registered may meet a smaller cluster (a replication factor
// refused, an internal topic not created yet).
func (b *Broker) waitBrokers(n int) {
	b.t.Helper()
	timeout := b.o.StartTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr))
	if err != nil {
		b.t.Fatal(err)
	}
	defer cl.Close()
	for {
		req := kmsg.NewPtrMetadataRequest()
		rctx, rcancel := context.WithTimeout(ctx, time.Second)
		m, err := cl.SeedBrokers()[0].Request(rctx, req)
		rcancel()
		if err == nil && len(m.(*kmsg.MetadataResponse).Brokers) >= n {
			return
		}
		select {
		case <-ctx.Done():
			b.t.Fatalf("broker at %s does not list %d brokers (%v):\n%s", b.Addr, n, err, b.Tail(4096))
		case <-time.After(20 * time.Millisecond): // other processes registering: no event to wait on
		}
	}
}

// Pause stops the process with SIGSTOP (it keeps its sockets and state
// but answers nothing); Resume continues it.
func (b *Broker) Pause() { b.cmd.Process.Signal(syscall.SIGSTOP) }

// Resume continues a paused process (SIGCONT).
func (b *Broker) Resume() { b.cmd.Process.Signal(syscall.SIGCONT) }

// QuorumLeader asks the voter whose CONTROLLER listener is at addr for
// the metadata quorum's leader (DescribeQuorum): its node id, -1 when the
// voter knows none.
func QuorumLeader(ctx context.Context, addr string) (int32, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	req := controller.NewDescribeQuorumRequest()
	m, err := cl.SeedBrokers()[0].Request(ctx, req)
	if err != nil {
		return 0, err
	}
	resp := m.(*kmsg.DescribeQuorumResponse)
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		return 0, fmt.Errorf("DescribeQuorum from %s names no metadata partition", addr)
	}
	return max(resp.Topics[0].Partitions[0].LeaderID, -1), nil
}
