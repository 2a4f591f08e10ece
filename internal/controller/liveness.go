package controller

import (
	"context"
	"errors"
	"net"
	"strconv"
	"syscall"
	"time"

	"github.com/sluice-io/sluice/internal/metadata"
	"github.com/sluice-io/sluice/internal/model"
)

// Fast fencing of a dead broker (beyond Kafka, which waits for
// broker.session.timeout.ms whatever happened). A broker that heartbeats
// holds a connection to the active controller; when its process dies the
// kernel closes that connection at once. The controller then probes the
// broker's client listener: a connection refused means no process listens
// there any more, so the broker is fenced now and its partitions get new
// leaders within a round trip of the kill instead of after the session
// timeout. The same probe runs for every broker when a controller becomes
// active (the old active controller's own broker may have died with it,
// and a new activation starts every session afresh) and for a broker that
// has missed heartbeats for a third of the timeout. Only a refusal fences:
// a probe that times out (a network cut, a paused process) or connects
// changes nothing, and the session timeout stays the rule there. Fencing
// a broker that is in fact restarting is harmless: its registration and
// next heartbeat unfence it.

// probeTimeout bounds one probe's dial.
const probeTimeout = time.Second

// WatchConn ties broker id's session to conn, the context of the
// connection its heartbeat came on (it ends when the connection closes):
// when that connection closes and no heartbeat came on another one
// meanwhile, the broker's listener is probed.
func (s *Sessions) WatchConn(conn context.Context, id model.NodeID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conns[id] == conn {
		return
	}
	s.conns[id] = conn
	context.AfterFunc(conn, func() {
		s.mu.Lock()
		last := s.conns[id] == conn
		if last {
			delete(s.conns, id)
		}
		s.mu.Unlock()
		if last {
			s.queueProbe(id)
		}
	})
}

// queueProbe asks Run to probe broker id; it never blocks (a full queue
// drops the request: the session timeout still applies).
func (s *Sessions) queueProbe(id model.NodeID) {
	select {
	case s.probes <- id:
	default:
	}
}

// queueProbeAllLocked queues a probe of every unfenced broker but this
// controller's own. Called under mu.
func (s *Sessions) queueProbeAllLocked(im *metadata.Image) {
	for _, id := range im.BrokerIDs() {
		if id != s.self && !im.Brokers[id].Fenced {
			s.queueProbe(id)
		}
	}
}

// probe dials broker id's listener and fences the broker when the dial is
// refused and no heartbeat came from it since the probe began.
func (s *Sessions) probe(ctx context.Context, id model.NodeID) {
	b := s.c.pub.Current().Brokers[id]
	if b == nil || b.Fenced || id == s.self {
		return
	}
	s.mu.Lock()
	since := s.last[id]
	s.mu.Unlock()
	addr := net.JoinHostPort(b.Host, strconv.Itoa(int(b.Port)))
	d := net.Dialer{Timeout: probeTimeout}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err == nil {
		c.Close()
		return
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return
	}
	s.mu.Lock()
	heard := s.last[id].After(since)
	active := s.activeLocked()
	s.mu.Unlock()
	if heard || !active {
		return
	}
	s.log.Warn("fencing broker: its listener refuses connections", "broker", id, "addr", addr)
	if _, err := s.c.run(ctx, func(im *metadata.Image) []metadata.Record { return s.c.fenceRecords(im, id) }); err != nil && ctx.Err() == nil {
		s.log.Error("fence broker", "broker", id, "err", err)
	}
}
