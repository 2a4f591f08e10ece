package controller

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/sluice-io/sluice/internal/metadata"
	"github.com/sluice-io/sluice/internal/model"
)

// Broker sessions (Kafka's BrokerHeartbeatManager and the fencing part of
// ReplicationControlManager). Every broker heartbeats; the active
// controller remembers when it last heard from each one (in memory only:
// a new controller gives every broker a fresh session), and a broker
// silent for longer than broker.session.timeout.ms is fenced: its
// BrokerRecord says fenced, it leaves the ISR of every partition it is in
// (the last member stays, as in Kafka), and the partitions it led get a
// new leader, the first unfenced member of the ISR in replica order
// (leader -1 when there is none), with the leader epoch and the partition
// epoch raised. A fenced broker's next heartbeat (or registration)
// unfences it, and the partitions left without a leader whose ISR holds
// it take it as leader. The controller's own broker is never fenced by
// it: they live and die together. A broker whose process died is fenced
// sooner, once a probe of its listener is refused (liveness.go). Only
// the active controller keeps
// sessions: a voter that becomes active starts every broker's session
// afresh (Kafka's ClusterControlManager.activate), and one that is not
// answers heartbeats with NOT_CONTROLLER.

// Sessions tracks the brokers' heartbeats. Safe for concurrent use.
type Sessions struct {
	c       *Controller
	self    model.NodeID
	timeout time.Duration
	log     *slog.Logger

	mu     sync.Mutex
	last   map[model.NodeID]time.Time // guarded by mu
	offset map[model.NodeID]int64     // guarded by mu; metadata offset of the last heartbeat
	active bool                       // guarded by mu; whether last is this activation's
	// conns is the connection each broker last heartbeated on (liveness.go);
	// guarded by mu.
	conns  map[model.NodeID]context.Context
	probes chan model.NodeID // brokers whose listener Run is to probe
}

// Seen is what the active controller knows of a broker's session.
type Seen struct {
	At time.Time // last heartbeat (or the activation, before the first)
	// MetadataOffset is the metadata offset the broker last reported
	// applying, -1 before its first heartbeat.
	MetadataOffset int64
}

// NewSessions tracks sessions of timeout for c, whose own broker is self.
// A broker's session starts when the controller first sees it (at start
// for those already registered).
func NewSessions(c *Controller, self model.NodeID, timeout time.Duration, log *slog.Logger) *Sessions {
	s := &Sessions{c: c, self: self, timeout: timeout, log: log, last: map[model.NodeID]time.Time{}, offset: map[model.NodeID]int64{},
		conns: map[model.NodeID]context.Context{}, probes: make(chan model.NodeID, 64)}
	c.sessions = s
	return s
}

// alive reports whether broker id's registered process may still live:
// its last heartbeat came on a connection that is still open, or, when
// none is known (this controller activated since), within the session
// timeout. A broker never heard from counts as gone.
func (s *Sessions) alive(id model.NodeID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if conn, ok := s.conns[id]; ok {
		return conn.Err() == nil
	}
	last, ok := s.last[id]
	return ok && time.Since(last) <= s.timeout
}

// Heartbeat records a heartbeat of broker id and unfences it if it was
// fenced (Kafka unfences a broker once it caught up with the metadata;
// here the broker heartbeats only once its follower caught up at start).
// It returns whether the broker is fenced after the heartbeat.
// metadataOffset is what the heartbeat says the broker applied.
func (s *Sessions) Heartbeat(ctx context.Context, id model.NodeID, epoch, metadataOffset int64) (fenced bool, err error) {
	if err := s.checkEpoch(id, epoch); err != nil {
		return true, err
	}
	if !s.touch(id, time.Now(), metadataOffset) {
		return true, ErrNotActive
	}
	if s.c.pub.Current().Brokers[id] == nil {
		return true, fmt.Errorf("heartbeat of broker %d: %w", id, ErrUnknownBroker)
	}
	if !s.c.pub.Current().Brokers[id].Fenced {
		return false, nil
	}
	_, err = s.c.run(ctx, func(im *metadata.Image) []metadata.Record { return s.c.unfenceRecords(im, id) })
	return err != nil, err
}

// Shutdown fences broker id at its own request (a heartbeat with
// want_shutdown, sent by a broker that stops cleanly): its partitions get
// new leaders at once instead of after its session expires (Kafka's
// controlled shutdown, here without waiting for the ISR to drain).
func (s *Sessions) Shutdown(ctx context.Context, id model.NodeID, epoch int64) error {
	if s.c.pub.Current().Brokers[id] == nil {
		return fmt.Errorf("shutdown of broker %d: %w", id, ErrUnknownBroker)
	}
	if err := s.checkEpoch(id, epoch); err != nil {
		return err
	}
	s.mu.Lock()
	active := s.activeLocked()
	delete(s.last, id)
	s.mu.Unlock()
	if !active {
		return ErrNotActive
	}
	s.log.Info("fencing broker: it is shutting down", "broker", id)
	_, err := s.c.run(ctx, func(im *metadata.Image) []metadata.Record { return s.c.fenceRecords(im, id) })
	return err
}

// ErrStaleBrokerEpoch: a heartbeat from a process whose registration was
// replaced by another's (STALE_BROKER_EPOCH): it neither keeps nor ends
// the broker's session.
var ErrStaleBrokerEpoch = fmt.Errorf("stale broker epoch: %w", kerr.StaleBrokerEpoch)

// checkEpoch refuses a heartbeat of broker id sent at another broker
// epoch than its registration's; -1 (a broker that does not know it
// yet) passes.
func (s *Sessions) checkEpoch(id model.NodeID, epoch int64) error {
	if b := s.c.pub.Current().Brokers[id]; b != nil && epoch >= 0 && epoch != b.Epoch {
		return fmt.Errorf("heartbeat of broker %d at epoch %d, registered at %d (another process registered its node.id): %w",
			id, epoch, b.Epoch, ErrStaleBrokerEpoch)
	}
	return nil
}

// touch records a heartbeat of id at now; false when this controller is
// not active.
func (s *Sessions) touch(id model.NodeID, now time.Time, offset int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.activeLocked() {
		return false
	}
	s.last[id], s.offset[id] = now, offset
	return true
}

// Sessions returns the brokers with a session on this controller, nil
// when it is not active.
func (s *Sessions) Sessions() map[model.NodeID]Seen {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.activeLocked() {
		return nil
	}
	out := make(map[model.NodeID]Seen, len(s.last))
	for id, at := range s.last {
		off, ok := s.offset[id]
		if !ok {
			off = -1
		}
		out[id] = Seen{At: at, MetadataOffset: off}
	}
	return out
}

// activeLocked tracks activation: when the controller becomes active
// every session starts afresh, and while it is not, none is kept.
func (s *Sessions) activeLocked() bool {
	active := s.c.Active()
	if active != s.active {
		clear(s.last)
		clear(s.offset)
		s.active = active
		if active {
			s.queueProbeAllLocked(s.c.pub.Current())
		}
	}
	return active
}

// Run fences brokers whose session expired, checking a few times per
// timeout, and probes the brokers that may have died (liveness.go), until
// ctx ends.
func (s *Sessions) Run(ctx context.Context) {
	t := time.NewTicker(max(s.timeout/4, 10*time.Millisecond))
	defer t.Stop()
	var probing sync.WaitGroup
	defer probing.Wait()
	for {
		select {
		case <-ctx.Done():
			return
		case id := <-s.probes:
			probing.Go(func() { s.probe(ctx, id) })
		case now := <-t.C:
			if s.c.opts.UncleanLeaderElection != nil && s.c.Active() { // no scan of every partition when nothing can enable it
				if _, err := s.c.run(ctx, s.c.uncleanRecords); err != nil && ctx.Err() == nil {
					s.log.Error("unclean leader election", "err", err)
				}
			}
			for _, id := range s.expired(now) {
				s.log.Warn("fencing broker: no heartbeat within broker.session.timeout.ms", "broker", id, "timeout", s.timeout)
				if _, err := s.c.run(ctx, func(im *metadata.Image) []metadata.Record { return s.c.fenceRecords(im, id) }); err != nil && ctx.Err() == nil {
					s.log.Error("fence broker", "broker", id, "err", err)
				}
			}
		}
	}
}

// expired lists the unfenced brokers not heard from within the timeout;
// a broker seen for the first time starts its session now.
func (s *Sessions) expired(now time.Time) []model.NodeID {
	im := s.c.pub.Current()
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.activeLocked() {
		return nil
	}
	var out []model.NodeID
	for _, id := range im.BrokerIDs() {
		if id == s.self || im.Brokers[id].Fenced {
			continue
		}
		last, ok := s.last[id]
		if !ok {
			s.last[id] = now
			continue
		}
		switch silent := now.Sub(last); {
		case silent > s.timeout:
			out = append(out, id)
		case silent > s.timeout/3:
			s.queueProbe(id) // it missed heartbeats: may be dead
		}
	}
	return out
}
