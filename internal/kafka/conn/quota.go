package conn

import (
	"context"
	"log/slog"
	"math"
	"net"
	"net/netip"
	"time"
)

// Connection limits, as Kafka's ConnectionQuotas applies them.
//
// The accept loop takes a connection, then waits, holding it, while the
// creation rate is over max.connection.creation.rate, and then while the
// listener holds max.connections (it resumes when a connection closes or
// the limit rises). A connection from an address that already holds its
// max.connections.per.ip (or its override) is closed at once. Lowering
// max.connections below the connections held closes the least recently
// active ones.
//
// The creation rate is a token bucket holding one second of connections:
// Kafka measures the rate over its quota window instead, and caps a
// throttle at the window (1 s); the long-run rate is the same, and so is
// the cap.

// ConnectionLimits are the limits on a listener's connections, with
// Kafka's meaning: 0 allows none, math.MaxInt32 (Kafka's default) is no
// limit. Kafka lets the first four change at run time
// (SetConnectionLimits).
type ConnectionLimits struct {
	Max   int // max.connections
	PerIP int // max.connections.per.ip
	// PerIPOverrides are max.connections.per.ip.overrides: host name or
	// IP address to its limit. A host name counts for every address it
	// resolves to when the limits are set.
	PerIPOverrides map[string]int
	CreationRate   int // max.connection.creation.rate, per second
	// ListenerMax and ListenerCreationRate are the listener's own
	// listener.name.<listener>.max.connections and
	// .max.connection.creation.rate; both the broker's and the
	// listener's limits apply, as in Kafka.
	ListenerMax          int
	ListenerCreationRate int
}

// NoConnectionLimits are Kafka's defaults: no limit at all.
func NoConnectionLimits() ConnectionLimits {
	return ConnectionLimits{Max: math.MaxInt32, PerIP: math.MaxInt32, CreationRate: math.MaxInt32,
		ListenerMax: math.MaxInt32, ListenerCreationRate: math.MaxInt32}
}

// maxConnections is the most connections the listener may hold.
func (l ConnectionLimits) maxConnections() int { return min(l.Max, l.ListenerMax) }

// quotas is a listener's connection accounting. Guarded by Server.mu.
type quotas struct {
	limits ConnectionLimits
	perIP  map[netip.Addr]int // overrides, resolved
	counts map[netip.Addr]int // connections per address
	total  int
	// rate and listenerRate are the broker's and the listener's creation
	// rates; a connection waits for the slower.
	rate, listenerRate tokenBucket
	// changed is closed and replaced when a connection ends, the limits
	// change or the server closes, while the accept loop waits for it.
	changed       chan struct{}
	acceptWaiting bool
}

// maxFor is the connection limit of an address.
func (q *quotas) maxFor(ip netip.Addr) int {
	if n, ok := q.perIP[ip]; ok {
		return n
	}
	return q.limits.PerIP
}

// waitChan returns the channel closed at the next change.
func (q *quotas) waitChan() <-chan struct{} {
	if !q.acceptWaiting {
		q.acceptWaiting = true
		q.changed = make(chan struct{})
	}
	return q.changed
}

// signal wakes the accept loop if it waits.
func (q *quotas) signal() {
	if q.acceptWaiting {
		q.acceptWaiting = false
		close(q.changed)
	}
}

// tokenBucket limits a rate of events per second, with a burst of one
// second's worth. Not safe for concurrent use.
type tokenBucket struct {
	rate   int // per second; math.MaxInt32 is no limit
	tokens float64
	last   time.Time
}

// maxThrottle caps a wait, as Kafka caps a connection throttle at its
// quota window.
const maxThrottle = time.Second

func (t *tokenBucket) setRate(rate int) {
	t.rate = rate
	t.tokens = min(t.tokens, float64(rate))
}

// take records one event at now and returns how long it must wait.
func (t *tokenBucket) take(now time.Time) time.Duration {
	if t.rate >= math.MaxInt32 {
		return 0
	}
	if t.rate <= 0 {
		return maxThrottle
	}
	if !t.last.IsZero() {
		t.tokens = min(float64(t.rate), t.tokens+now.Sub(t.last).Seconds()*float64(t.rate))
	} else {
		t.tokens = float64(t.rate)
	}
	t.last = now
	t.tokens--
	if t.tokens >= 0 {
		return 0
	}
	return min(time.Duration(-t.tokens/float64(t.rate)*float64(time.Second)), maxThrottle)
}

// resolveOverrides maps max.connections.per.ip.overrides onto addresses.
// A host name that does not resolve is logged and skipped (Kafka fails to
// apply the whole config then).
func resolveOverrides(overrides map[string]int, log *slog.Logger) map[netip.Addr]int {
	out := make(map[netip.Addr]int, len(overrides))
	for host, n := range overrides {
		if ip, err := netip.ParseAddr(host); err == nil {
			out[ip.Unmap()] = n
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		cancel()
		if err != nil {
			log.Warn("max.connections.per.ip.overrides: host does not resolve; ignored", "host", host, "err", err)
			continue
		}
		for _, ip := range ips {
			out[ip.Unmap()] = n
		}
	}
	return out
}

// remoteIP is the address a connection comes from.
func remoteIP(c net.Conn) netip.Addr {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		return a.AddrPort().Addr().Unmap()
	}
	return netip.Addr{}
}
