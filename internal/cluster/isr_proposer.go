package cluster

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/sluice-io/sluice/internal/controller"
	"github.com/sluice-io/sluice/internal/model"
	"github.com/sluice-io/sluice/internal/replica"
)

// ISRProposer sends the ISR proposals of the partitions this broker leads
// to the controller (Kafka's AlterPartitionManager), one at a time, in
// order, on its own goroutine: partitions propose under their append
// lock and must not wait. A refused or failed proposal is ended on the
// partition so that it may propose again; an accepted one comes back
// with the metadata image that holds it.
type ISRProposer struct {
	self     model.NodeID
	replicas *Replicas
	log      *slog.Logger

	epoch brokerEpochSource // this broker's epoch (SetBrokerEpoch)

	mu    sync.Mutex
	ctrl  controller.API      // guarded by mu; nil until SetController
	queue []replica.ISRChange // guarded by mu
	kick  chan struct{}       // a proposal was queued
}

// NewISRProposer returns a proposer for broker self's partitions.
func NewISRProposer(self model.NodeID, replicas *Replicas, log *slog.Logger) *ISRProposer {
	return &ISRProposer{self: self, replicas: replicas, log: log, kick: make(chan struct{}, 1)}
}

// SetController sets where proposals go.
func (p *ISRProposer) SetController(c controller.API) {
	p.mu.Lock()
	p.ctrl = c
	p.mu.Unlock()
}

// SetBrokerEpoch makes proposals carry epoch() as the leader's broker
// epoch; without it they carry -1.
func (p *ISRProposer) SetBrokerEpoch(epoch func() int64) { p.epoch.set(epoch) }

// Propose queues ch. It never blocks.
func (p *ISRProposer) Propose(ch replica.ISRChange) {
	p.mu.Lock()
	p.queue = append(p.queue, ch)
	p.mu.Unlock()
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// Run sends the queued proposals until ctx ends.
func (p *ISRProposer) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.kick:
		}
		p.mu.Lock()
		todo, ctrl := p.queue, p.ctrl
		p.queue = nil
		p.mu.Unlock()
		for _, ch := range todo {
			p.send(ctx, ctrl, ch)
		}
	}
}

func (p *ISRProposer) send(ctx context.Context, ctrl controller.API, ch replica.ISRChange) {
	fail := func(refused bool) {
		if part := p.replicas.Get(ch.TP); part != nil {
			part.ISRProposalFailed(ch.PartitionEpoch, refused, time.Now().UnixMilli())
		}
	}
	if ctrl == nil {
		fail(true)
		return
	}
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	code, err := ctrl.AlterPartition(sctx, controller.ISRUpdate{Broker: p.self, TopicID: ch.TopicID, Partition: ch.TP.Partition,
		LeaderEpoch: ch.LeaderEpoch, PartitionEpoch: ch.PartitionEpoch, ISR: ch.ISR, BrokerEpochs: ch.BrokerEpochs,
		BrokerEpoch: p.epoch.get()})
	if err != nil || code != nil {
		if ctx.Err() == nil {
			p.log.Info("ISR change not committed", "partition", ch.TP, "isr", ch.ISR, "code", code, "err", err)
		}
		fail(err == nil && refusedForGood(code))
		return
	}
	p.log.Info("ISR changed", "partition", ch.TP, "isr", ch.ISR)
}

// refusedForGood reports whether the controller's answer to a proposal
// says it did not commit it. INVALID_UPDATE_VERSION and
// FENCED_LEADER_EPOCH say the partition moved on, maybe by this very
// proposal (the answer to a resend of one that was committed), and
// NOT_CONTROLLER that the answer comes from a controller that is behind:
// the metadata will tell.
func refusedForGood(code *kerr.Error) bool {
	return code != kerr.InvalidUpdateVersion && code != kerr.FencedLeaderEpoch && code != kerr.NotController
}
