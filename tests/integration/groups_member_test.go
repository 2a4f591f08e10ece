package integration

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// member is one consumer of a groupRun, polling in its own goroutine.
type member struct {
	g      *groupRun
	name   string
	cl     *kgo.Client
	ctx    context.Context // polls; canceled by leave
	cancel context.CancelFunc
	stop   chan struct{}
	done   chan struct{}
}

// member starts a consumer named name in the group.
func (g *groupRun) member(name string) *member {
	g.t.Helper()
	m := &member{g: g, name: name, stop: make(chan struct{}), done: make(chan struct{})}
	m.ctx, m.cancel = context.WithCancel(g.ctx)
	track := func(add bool) func(context.Context, *kgo.Client, map[string][]int32) {
		return func(_ context.Context, _ *kgo.Client, ps map[string][]int32) {
			g.mu.Lock()
			defer g.mu.Unlock()
			if g.owned[name] == nil {
				g.owned[name] = map[int32]bool{}
			}
			for _, p := range ps[g.topic] {
				if add {
					g.owned[name][p] = true
				} else {
					delete(g.owned[name], p)
				}
			}
		}
	}
	revoked := func(ctx context.Context, cl *kgo.Client, ps map[string][]int32) {
		// Commit what was polled before the partitions move: with
		// BlockRebalanceOnPoll every polled record is processed by now.
		if err := cl.CommitUncommittedOffsets(ctx); err != nil && !m.stopping() {
			g.fail(fmt.Errorf("%s: commit on revoke: %w", name, err))
		}
		track(false)(ctx, cl, ps)
	}
	opts := []kgo.Opt{kgo.SeedBrokers(g.n.Addr()), kgo.ConsumerGroup(g.group), kgo.ConsumeTopics(g.topic),
		kgo.ClientID(name), kgo.Balancers(g.balancer), kgo.DisableAutoCommit(), kgo.BlockRebalanceOnPoll(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.HeartbeatInterval(100 * time.Millisecond),
		kgo.OnPartitionsAssigned(track(true)), kgo.OnPartitionsRevoked(revoked), kgo.OnPartitionsLost(track(false))}
	if g.serverSide {
		opts = append(opts, kgo.ServerSideBalancer())
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		g.t.Fatal(err)
	}
	m.cl = cl
	go m.loop()
	g.t.Cleanup(m.leave)
	return m
}

func (m *member) loop() {
	defer close(m.done)
	defer m.cl.AllowRebalance() // a canceled poll may still block rebalances
	for m.g.waitBelowHold(m) {
		fs := m.cl.PollRecords(m.ctx, 5000)
		// Count what the poll returned even when it was cut short by
		// leave(): leave commits every polled offset, so records polled
		// and not counted would look lost.
		fs.EachRecord(func(r *kgo.Record) { m.g.read(binary.BigEndian.Uint64(r.Value)) })
		if fs.IsClientClosed() || m.ctx.Err() != nil {
			return
		}
		if err := fs.Err0(); err != nil {
			m.g.fail(fmt.Errorf("%s: poll: %w", m.name, err))
		}
		m.cl.AllowRebalance()
	}
}

func (m *member) stopping() bool {
	select {
	case <-m.stop:
		return true
	default:
		return false
	}
}

// leave stops polling, commits what was polled and leaves the group.
// Idempotent.
func (m *member) leave() {
	if m.stopping() {
		<-m.done
		return
	}
	close(m.stop)
	m.cancel()
	<-m.done
	if err := m.cl.CommitUncommittedOffsets(m.g.ctx); err != nil {
		m.g.fail(fmt.Errorf("%s: commit before leaving: %w", m.name, err))
	}
	m.cl.Close()
}

// waitBelowHold waits until fewer than holdAt records were read; false
// when m is stopped meanwhile.
func (g *groupRun) waitBelowHold(m *member) bool {
	for {
		g.holdMu.Lock()
		changed := g.holdChanged
		g.holdMu.Unlock()
		if g.distinct.Load() < g.holdAt.Load() {
			return !m.stopping()
		}
		select {
		case <-changed:
		case <-m.ctx.Done():
			return false
		}
	}
}

// setHold lets members poll until n records were read.
func (g *groupRun) setHold(n int64) {
	g.holdAt.Store(n)
	g.holdMu.Lock()
	defer g.holdMu.Unlock()
	close(g.holdChanged)
	g.holdChanged = make(chan struct{})
}

func (g *groupRun) read(i uint64) {
	if g.counts[i].Add(1) == 1 {
		g.distinct.Add(1)
	}
}

func (g *groupRun) fail(err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.err == nil {
		g.err = err
	}
}
