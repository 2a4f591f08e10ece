package conn_test

import (
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/config"
	"github.com/sluice-io/sluice/internal/kafka/conn"
	"github.com/sluice-io/sluice/internal/node"
	"github.com/sluice-io/sluice/internal/node/nodetest"
)

// startLimited starts a node whose listener has limits l and whose
// controller validates broker configs as a real broker does.
func startLimited(t *testing.T, l func(*conn.ConnectionLimits), mods ...func(*node.Options)) *node.Node {
	return nodetest.Start(t, append([]func(*node.Options){func(o *node.Options) {
		l(&o.Connections)
		o.Controller.ValidateBrokerConfigs = func(layer map[string]string) error {
			return config.ValidateBrokerAlter(config.Default(), true, layer)
		}
	}}, mods...)...)
}

// served sends ApiVersions on c and reports whether it was answered.
func served(t *testing.T, c *nodetest.Raw) {
	t.Helper()
	if resp := c.Request(kmsg.NewPtrApiVersionsRequest(), 3).(*kmsg.ApiVersionsResponse); resp.ErrorCode != 0 {
		t.Fatalf("api versions: code %d", resp.ErrorCode)
	}
}

// alterDefault sets a cluster-wide dynamic broker config over c.
func alterDefault(t *testing.T, c *nodetest.Raw, key, value string) (int16, string) {
	t.Helper()
	req := kmsg.NewPtrIncrementalAlterConfigsRequest()
	res := kmsg.NewIncrementalAlterConfigsRequestResource()
	res.ResourceType = kmsg.ConfigResourceTypeBroker
	cfg := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
	cfg.Name, cfg.Value = key, &value
	res.Configs = append(res.Configs, cfg)
	req.Resources = append(req.Resources, res)
	resp := c.Request(req, 1).(*kmsg.IncrementalAlterConfigsResponse)
	r := resp.Resources[0]
	msg := ""
	if r.ErrorMessage != nil {
		msg = *r.ErrorMessage
	}
	return r.ErrorCode, msg
}

// TestMaxConnections: at max.connections the listener stops accepting
// until a connection closes; lowering it at run time closes the least
// recently active connections, raising it lets the waiting one in.
func TestMaxConnections(t *testing.T) {
	n := startLimited(t, func(l *conn.ConnectionLimits) { l.Max = 3 })
	srv := n.Listener()
	var cs []*nodetest.Raw
	for range 3 {
		c := nodetest.Dial(t, n)
		served(t, c)
		cs = append(cs, c)
	}
	fourth := nodetest.Dial(t, n) // the kernel completes the handshake
	fourth.Send(kmsg.NewPtrApiVersionsRequest(), 3)
	waitUntil(t, "the listener to hold the fourth connection", func() bool { return srv.Stats().AcceptWaiting })
	if got := srv.Stats().Connections; got != 3 {
		t.Fatalf("%d connections, want 3", got)
	}
	cs[0].C.Close()
	if resp := fourth.Read(kmsg.NewPtrApiVersionsRequest(), 3).(*kmsg.ApiVersionsResponse); resp.ErrorCode != 0 {
		t.Fatalf("api versions once a slot freed: code %d", resp.ErrorCode)
	}

	// Lower it to 2 over the most recently active connection, cs[2].
	served(t, cs[2])
	if code, msg := alterDefault(t, cs[2], "max.connections", "2"); code != 0 {
		t.Fatalf("alter max.connections: %d %s", code, msg)
	}
	if !cs[1].Closed(10 * time.Second) {
		t.Fatal("the least recently active connection stayed open")
	}
	waitUntil(t, "2 connections", func() bool { return srv.Stats().Connections == 2 })
	served(t, cs[2])
	late := nodetest.Dial(t, n)
	late.Send(kmsg.NewPtrApiVersionsRequest(), 3)
	waitUntil(t, "the listener to hold a third connection", func() bool { return srv.Stats().AcceptWaiting })
	if code, msg := alterDefault(t, cs[2], "max.connections", "10"); code != 0 {
		t.Fatalf("alter max.connections: %d %s", code, msg)
	}
	late.Read(kmsg.NewPtrApiVersionsRequest(), 3)
}

// TestMaxConnectionsPerIP: a connection from an address at its limit is
// closed at once; overrides (by address or host name) replace the limit,
// and change at run time; a bad override is refused naming the key.
func TestMaxConnectionsPerIP(t *testing.T) {
	n := startLimited(t, func(l *conn.ConnectionLimits) {
		l.PerIP = 2
	})
	srv := n.Listener()
	a, b := nodetest.Dial(t, n), nodetest.Dial(t, n)
	served(t, a)
	served(t, b)
	if !nodetest.Dial(t, n).Closed(10 * time.Second) {
		t.Fatal("a third connection from 127.0.0.1 stayed open")
	}
	if got := srv.Stats().Connections; got != 2 {
		t.Errorf("%d connections counted, want 2", got)
	}

	if code, msg := alterDefault(t, a, "max.connections.per.ip.overrides", "localhost:3,10.0.0.1:1"); code != 0 {
		t.Fatalf("alter overrides: %d %s", code, msg)
	}
	var third *nodetest.Raw
	waitUntil(t, "the override to apply", func() bool {
		third = nodetest.Dial(t, n)
		return !third.Closed(100 * time.Millisecond)
	})
	served(t, third)
	if !nodetest.Dial(t, n).Closed(10 * time.Second) {
		t.Fatal("a fourth connection stayed open over the override of 3")
	}

	code, msg := alterDefault(t, a, "max.connections.per.ip.overrides", "127.0.0.1:x")
	if code == 0 || !strings.Contains(msg, "max.connections.per.ip.overrides") {
		t.Errorf("bad override: code %d, %q", code, msg)
	}
}

// TestMaxConnectionsPerIPOverrideAtStart: max.connections.per.ip=0 with
// an override lets only the listed address in, up to its count.
func TestMaxConnectionsPerIPOverrideAtStart(t *testing.T) {
	n := startLimited(t, func(l *conn.ConnectionLimits) {
		l.PerIP = 0
		l.PerIPOverrides = map[string]int{"127.0.0.1": 1}
	})
	served(t, nodetest.Dial(t, n))
	if !nodetest.Dial(t, n).Closed(10 * time.Second) {
		t.Fatal("a second connection stayed open over the override of 1")
	}
}

// TestConnectionCreationRate: max.connection.creation.rate spaces out
// accepts; a change at run time applies to the next connections.
func TestConnectionCreationRate(t *testing.T) {
	n := startLimited(t, func(l *conn.ConnectionLimits) { l.CreationRate = 5 })
	// 5 at once (one second's burst), then one every 200 ms.
	if d := timeConnections(t, n, 15); d < 1500*time.Millisecond {
		t.Errorf("15 connections at 5/s were served in %v", d)
	}
	admin := nodetest.Dial(t, n)
	served(t, admin)
	if code, msg := alterDefault(t, admin, "max.connection.creation.rate", "2"); code != 0 {
		t.Fatalf("alter rate: %d %s", code, msg)
	}
	// At most 2 tokens are left: 4 or more connections wait 500 ms each.
	if d := timeConnections(t, n, 6); d < 1500*time.Millisecond {
		t.Errorf("6 connections at 2/s were served in %v", d)
	}
}

// timeConnections opens count connections at once and returns how long
// until each was served.
func timeConnections(t *testing.T, n *node.Node, count int) time.Duration {
	t.Helper()
	start := time.Now()
	cs := make([]*nodetest.Raw, count)
	for i := range cs {
		cs[i] = nodetest.Dial(t, n)
		cs[i].Send(kmsg.NewPtrApiVersionsRequest(), 3)
	}
	for _, c := range cs {
		c.Read(kmsg.NewPtrApiVersionsRequest(), 3)
	}
	return time.Since(start)
}

// TestIdleConnectionsClosed: connections.max.idle.ms closes a connection
// that sent nothing for that long, but not one whose request is in
// progress, nor one that keeps sending.
func TestIdleConnectionsClosed(t *testing.T) {
	const idle = 300 * time.Millisecond
	n := nodetest.Start(t, func(o *node.Options) { o.IdleTimeout = idle })
	createTopic(t, n, "t", 1)

	start := time.Now()
	quiet := nodetest.Dial(t, n)
	if !quiet.Closed(10 * time.Second) {
		t.Fatal("an idle connection stayed open")
	}
	if d := time.Since(start); d < idle {
		t.Errorf("closed after %v, before connections.max.idle.ms %v", d, idle)
	}

	busy := nodetest.Dial(t, n)
	resp := busy.Request(longPoll("t", 4*idle), 11).(*kmsg.FetchResponse)
	if code := resp.Topics[0].Partitions[0].ErrorCode; code != 0 {
		t.Fatalf("long poll: code %d", code)
	}

	chatty := nodetest.Dial(t, n)
	for range 8 {
		served(t, chatty)
		time.Sleep(idle / 3) // the client's pace; nothing to poll for
	}
	if !busy.Closed(10 * time.Second) {
		t.Fatal("the connection stayed open once idle after its long poll")
	}
}

// TestListenerConnectionLimits: the listener's own
// listener.name.<listener>.max.connections and
// .max.connection.creation.rate apply on top of the broker's.
func TestListenerConnectionLimits(t *testing.T) {
	n := startLimited(t, func(l *conn.ConnectionLimits) { l.ListenerMax, l.ListenerCreationRate = 2, 4 })
	cs := []*nodetest.Raw{nodetest.Dial(t, n), nodetest.Dial(t, n)}
	for _, c := range cs {
		served(t, c)
	}
	third := nodetest.Dial(t, n)
	third.Send(kmsg.NewPtrApiVersionsRequest(), 3)
	waitUntil(t, "the listener to hold the third connection", func() bool { return n.Listener().Stats().AcceptWaiting })
	cs[0].C.Close()
	third.Read(kmsg.NewPtrApiVersionsRequest(), 3)
	cs[1].C.Close()
	third.C.Close()
	waitUntil(t, "the connections to close", func() bool { return n.Listener().Stats().Connections == 0 })
	// Even with the rate's burst of 4 refilled, 9 connections at 4/s
	// take 1.25 s.
	start := time.Now()
	for range 9 {
		c := nodetest.Dial(t, n)
		served(t, c)
		c.C.Close()
	}
	if d := time.Since(start); d < time.Second {
		t.Errorf("9 connections at 4/s were served in %v", d)
	}
}
