package faults

import (
	"context"
	"fmt"
	"time"
)

// Fault is one kind of fault the nemesis injects: Inject breaks something
// and returns how to repair it.
type Fault struct {
	Name   string
	Inject func(ctx context.Context, c *Cluster) (heal func(), err error)
}

// FaultRecord is one injected fault: when it started, when it was healed
// and when the cluster was whole again.
type FaultRecord struct {
	Name                     string
	Node                     int // node id it hit, 0 for several
	Start, Healed, Recovered time.Time
	Unavailable              time.Duration // the longest wait for an acknowledgement from Start to Recovered
	RecoveryErr              error
}

// The suite's faults. hold is how long a fault lasts before it is
// healed: longer than the session timeout (1.5 s), so that the cluster
// notices.
func faults(hold time.Duration, oneWay bool) []Fault {
	// hit picks a node, breaks it with act, holds the fault and returns
	// undo as the repair.
	hit := func(pick func(*Cluster, context.Context) (int, error), act, undo func(c *Cluster, i int)) func(context.Context, *Cluster) (func(), error) {
		return func(ctx context.Context, c *Cluster) (func(), error) {
			n, err := pick(c, ctx)
			if err != nil {
				return nil, err
			}
			act(c, n-1)
			select {
			case <-ctx.Done():
			case <-time.After(hold): // the fault's duration
			}
			return func() { undo(c, n-1) }, nil
		}
	}
	kill := func(c *Cluster, i int) { c.Nodes[i].Kill9() }
	restart := func(c *Cluster, i int) { c.Nodes[i].Restart() }
	pause := func(c *Cluster, i int) { c.Nodes[i].Pause() }
	resume := func(c *Cluster, i int) { c.Nodes[i].Resume() }
	cut := (*Cluster).Cut
	cutOut := func(c *Cluster, i int) { c.CutOneWay(i, true) }
	cutIn := func(c *Cluster, i int) { c.CutOneWay(i, false) }
	heal := (*Cluster).Heal
	leader := (*Cluster).leaderNode
	controller := (*Cluster).activeNode
	follower := func(c *Cluster, ctx context.Context) (int, error) {
		n, err := c.leaderNode(ctx)
		return n%len(c.Nodes) + 1, err
	}
	kinds := []Fault{
		{"kill -9 a partition leader", hit(leader, kill, restart)},
		{"SIGSTOP a partition leader", hit(leader, pause, resume)},
		{"cut a partition leader off", hit(leader, cut, heal)},
		{"kill -9 the active controller", hit(controller, kill, restart)},
		{"kill -9 a follower", hit(follower, kill, restart)},
		{"cut the active controller off", hit(controller, cut, heal)},
		{"rolling restart (SIGTERM)", func(ctx context.Context, c *Cluster) (func(), error) {
			for _, b := range c.Nodes {
				if err := b.Stop(); err != nil {
					return nil, err
				}
				b.Restart()
				if err := c.Healthy(ctx, suiteTopic); err != nil {
					return nil, err
				}
			}
			return func() {}, nil
		}},
	}
	if oneWay {
		kinds = append(kinds,
			Fault{"a partition leader cannot send", hit(leader, cutOut, heal)},
			Fault{"a partition leader cannot receive", hit(leader, cutIn, heal)})
	}
	return kinds
}

// suiteTopic is the topic the workload writes.
const suiteTopic = "faults"

// leaderNode is the node leading the suite topic's partition 0.
func (c *Cluster) leaderNode(ctx context.Context) (int, error) {
	n := c.Leader(ctx, suiteTopic, 0)
	if n <= 0 {
		return 0, fmt.Errorf("partition %s/0 has no leader", suiteTopic)
	}
	return int(n), nil
}

// activeNode is the active controller's node id, waiting up to 30 s for
// the quorum to have one (an election after the previous fault).
func (c *Cluster) activeNode(ctx context.Context) (int, error) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		if n := c.ActiveController(ctx); n > 0 {
			return int(n), nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return 0, fmt.Errorf("no active controller for 30 s")
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond): // an election in other processes: no event to wait on
		}
	}
}

// unavailable is the longest wait for an acknowledgement from start
// until the first acknowledgement after end: from start to the first one,
// or between two.
func unavailable(acks []time.Time, start, end time.Time) time.Duration {
	var worst time.Duration
	last := start
	for _, a := range acks {
		if a.Before(start) {
			continue
		}
		worst = max(worst, a.Sub(last))
		last = a
		if a.After(end) {
			return worst
		}
	}
	return max(worst, end.Sub(last)) // no acknowledgement after end (yet)
}
