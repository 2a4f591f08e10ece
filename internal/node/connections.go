package node

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/sluice-io/sluice/internal/config"
	"github.com/sluice-io/sluice/internal/kafka/conn"
)

// connectionKeys are the connection limits Kafka lets change at run time
// (SocketServer.ReconfigurableConfigs).
var connectionKeys = []string{"max.connections", "max.connections.per.ip",
	"max.connections.per.ip.overrides", "max.connection.creation.rate"}

// connectionLimits are the limits of the listener named listener.
func connectionLimits(cfg *config.Broker, listener string) conn.ConnectionLimits {
	l := brokerConnectionLimits(cfg)
	// Kafka's listener-prefixed limits apply on top of the broker's.
	l.ListenerMax, l.ListenerCreationRate = math.MaxInt32, math.MaxInt32
	prefix := "listener.name." + strings.ToLower(listener) + "."
	if v, _, ok := cfg.Lookup(prefix + "max.connections"); ok {
		l.ListenerMax, _ = strconv.Atoi(v)
	}
	if v, _, ok := cfg.Lookup(prefix + "max.connection.creation.rate"); ok {
		l.ListenerCreationRate, _ = strconv.Atoi(v)
	}
	return l
}

// brokerConnectionLimits are the broker-wide limits.
func brokerConnectionLimits(cfg *config.Broker) conn.ConnectionLimits {
	return conn.ConnectionLimits{
		Max:            int(cfg.Int("max.connections")),
		PerIP:          int(cfg.Int("max.connections.per.ip")),
		PerIPOverrides: config.ParseConnectionOverrides(cfg.String("max.connections.per.ip.overrides")),
		CreationRate:   int(cfg.Int("max.connection.creation.rate")),
	}
}

// requestLimits are the bounds of requests read ahead of their replies.
func requestLimits(cfg *config.Broker) conn.RequestLimits {
	return conn.RequestLimits{
		PerConnBytes:   cfg.Int("sluice.queued.max.request.bytes.per.connection"),
		QueuedRequests: int(cfg.Int("queued.max.requests")),
		QueuedBytes:    cfg.Int("queued.max.request.bytes"),
	}
}

// idleTimeout is connections.max.idle.ms; negative (never) stays negative.
func idleTimeout(cfg *config.Broker) time.Duration {
	if ms := cfg.Int("connections.max.idle.ms"); ms >= 0 {
		return time.Duration(ms) * time.Millisecond
	}
	return -1
}

// withDynamic returns static with the connection keys that eff takes
// from the dynamic layers (the listener's own limits are static).
func withDynamic(static conn.ConnectionLimits, eff *config.Broker) conn.ConnectionLimits {
	dyn := brokerConnectionLimits(eff)
	l := static
	for _, k := range connectionKeys {
		if _, src, _ := eff.Lookup(k); src != config.SourceDynamicBroker && src != config.SourceDynamicDefaultBroker {
			continue
		}
		switch k {
		case "max.connections":
			l.Max = dyn.Max
		case "max.connections.per.ip":
			l.PerIP = dyn.PerIP
		case "max.connections.per.ip.overrides":
			l.PerIPOverrides = dyn.PerIPOverrides
		case "max.connection.creation.rate":
			l.CreationRate = dyn.CreationRate
		}
	}
	return l
}

// pushConnectionLimits hands the connection limits in force under cfg
// to the listener. It is called by the metadata listener (applyDynamic),
// which must not wait: applying may resolve host names, so a goroutine
// (applyConnectionLimits) does it, and only the newest limits matter.
func (n *Node) pushConnectionLimits(cfg *config.Broker) {
	select {
	case <-n.connLimits:
	default:
	}
	n.connLimits <- withDynamic(n.opts.Connections, cfg)
}

// applyConnectionLimits applies the pushed limits to the listener until
// the node stops.
func (n *Node) applyConnectionLimits() {
	defer n.wg.Done()
	for {
		select {
		case l := <-n.connLimits:
			n.server.SetConnectionLimits(l)
		case <-n.stop:
			return
		}
	}
}
