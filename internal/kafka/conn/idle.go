package conn

import (
	"slices"
	"time"
)

// Idle connections (connections.max.idle.ms). A connection is active
// while a request is in flight (read and not yet answered) and whenever
// its socket delivered bytes since the last sweep; one that was neither
// for IdleTimeout is closed, as Kafka's selector expires idle channels.
// A sweep runs every quarter of the timeout (at most every second), so a
// connection closes between IdleTimeout and IdleTimeout plus one sweep
// after it went idle. The reader only bumps an atomic counter per socket
// read; the sweep keeps the rest under Server.mu.

// sweepEvery is the sweep period for an idle timeout.
func sweepEvery(idle time.Duration) time.Duration {
	return min(max(idle/4, 5*time.Millisecond), time.Second)
}

// sweepIdle closes idle connections until Close.
func (s *Server) sweepIdle() {
	t := time.NewTicker(sweepEvery(s.cfg.IdleTimeout))
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case now := <-t.C:
			s.sweep(now)
		}
	}
}

// sweep notes which connections were active since the last sweep and
// closes those idle for longer than the timeout.
func (s *Server) sweep(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for cn := range s.conns {
		if reads := cn.reads.Load(); reads != cn.seenReads || cn.flight.reqs.Load() > 0 {
			cn.seenReads, cn.lastActive = reads, now
			continue
		}
		if !cn.closing && now.Sub(cn.lastActive) >= s.cfg.IdleTimeout {
			cn.closing = true
			s.log.Debug("closing idle connection", "remote", cn.c.RemoteAddr().String(),
				"idle", now.Sub(cn.lastActive).Round(time.Millisecond))
			cn.kill()
		}
	}
}

// closeExcess closes connections over max.connections, least recently
// active first (Kafka closes its selector's lowest-priority channel).
// Called with s.mu held.
func (s *Server) closeExcess() {
	byActivity := make([]*connection, 0, len(s.conns))
	for cn := range s.conns {
		if !cn.closing {
			byActivity = append(byActivity, cn)
		}
	}
	over := len(byActivity) - s.q.limits.Max
	if over <= 0 {
		return
	}
	slices.SortFunc(byActivity, func(a, b *connection) int { return a.lastActive.Compare(b.lastActive) })
	for _, cn := range byActivity[:over] {
		cn.closing = true
		s.log.Info("closing connection over max.connections", "remote", cn.c.RemoteAddr().String(), "max.connections", s.q.limits.Max)
		cn.kill()
	}
}
