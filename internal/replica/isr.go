package replica

import (
	"slices"

	"github.com/sluice-io/sluice/internal/model"
)

// ISR changes on the leader (Kafka's Partition.maybeShrinkIsr and
// maybeExpandIsr). The leader proposes; the controller decides
// (AlterPartition) and the new ISR arrives with the next metadata image
// (MakeLeader). One proposal is in flight at a time. While a shrink is
// pending the HW still counts the members it drops, and while an
// expansion is pending it counts the member it adds (Kafka's "maximal
// ISR"): both are the more restrictive choice.
//
// A proposal stays pending until its outcome is known: a metadata image
// with a newer partition epoch (which holds it, or what replaced it), or
// the controller's refusal of it. An answer that does not say (a lost
// request, a timeout) or that says the partition moved on
// (INVALID_UPDATE_VERSION, FENCED_LEADER_EPOCH: maybe by this very
// proposal, answered to a resend) keeps it pending: it is sent again
// after isrRetryBackoffMs and the HW keeps counting the member it adds.
// Dropping it then, the leader would count the HW without a member the
// controller may already have put into the ISR, and acknowledge records
// that member lacks; elected next, it would lose them (found by the fault
// suite: two acknowledged records lost after a leader's expansion was
// committed while its retries were refused). A refused proposal is not
// made again before isrRetryBackoffMs.
//
// A follower of the ISR leaves it when it has not caught up with the
// leader's log end within replica.lag.time.max.ms; one outside joins when
// its log end reached the HW and the start of this leader's epoch (so it
// holds every committed record the leader may not have made visible yet).

// ISRChange is a proposal for the controller.
type ISRChange struct {
	TP             model.TopicPartition
	TopicID        model.TopicID
	LeaderEpoch    model.LeaderEpoch
	PartitionEpoch int32
	ISR            []model.NodeID
	// BrokerEpochs are, in the order of ISR, the broker epochs the
	// members' fetches carried (-1 unknown, and for the leader itself):
	// the controller refuses a member whose process is no longer the one
	// registered (KIP-903).
	BrokerEpochs []int64
}

// SetLease gives the partition its broker's lease: held reports whether
// the controller has heard from this broker within its session (its last
// acknowledged heartbeat was sent less than broker.session.timeout.ms
// ago). A leader whose ISR is itself alone, with other replicas, holds
// its HW while the lease is not held (R6, beyond Kafka): after a pause it
// may have been fenced and replaced without knowing, and nothing else
// stops it from acknowledging acks=all writes the new leader lacks (an
// ISR of several needs its followers' fetches, which go to the new
// leader). Nil, the default, is always held.
func (p *Partition) SetLease(held func() bool) {
	p.appendMu.Lock()
	p.lead.lease = held
	p.unlockAppend()
}

// leaseLostLocked reports an ISR of one, with other replicas, whose
// broker's lease is not held. Called under appendMu.
func (p *Partition) leaseLostLocked() bool {
	l := &p.lead
	return l.lease != nil && len(l.followers) > 0 && len(p.maximalISRLocked()) == 1 && !l.lease()
}

// SetISRProposer sets where the partition sends its ISR proposals; f
// must not block (it queues). Nil proposes nothing (the ISR stays what
// the metadata says).
func (p *Partition) SetISRProposer(f func(ISRChange)) {
	p.appendMu.Lock()
	p.lead.propose = f
	p.unlockAppend()
}

// isrRetryBackoffMs is how long a leader waits before it sends a pending
// proposal again, or makes a new one after a refusal.
const isrRetryBackoffMs = 1000

// ISRProposalFailed reports the proposal made at partitionEpoch not
// committed: refused by the controller (it did not commit it: the next
// check may propose again after a back-off), or with an outcome unknown
// (the proposal stays pending and is sent again).
func (p *Partition) ISRProposalFailed(partitionEpoch int32, refused bool, now int64) {
	p.appendMu.Lock()
	defer p.unlockAppend()
	l := &p.lead
	if l.partitionEpoch != partitionEpoch || l.proposed == nil {
		return // the metadata moved on meanwhile: it holds the outcome
	}
	if refused {
		l.proposed, l.retryAtMs = nil, now+isrRetryBackoffMs
		return
	}
	l.resendAtMs = now + isrRetryBackoffMs
}

// MaybeShrinkISR proposes to drop the ISR members that have not caught up
// within replica.lag.time.max.ms, and moves the HW if time alone lets it.
// The node calls it periodically.
func (p *Partition) MaybeShrinkISR(nowMs int64) {
	p.appendMu.Lock()
	defer p.unlockAppend()
	l := &p.lead
	if p.Role() != RoleLeader {
		return
	}
	// The HW depends on time too (a follower outside the ISR stops
	// holding it back once it has not caught up for the lag time).
	if p.computeHWLocked(nowMs) != l.hw {
		p.publishLocked(nowMs)
	}
	if l.propose == nil {
		return
	}
	if l.proposed != nil {
		if l.resendAtMs > 0 && nowMs >= l.resendAtMs {
			l.resendAtMs = 0
			l.propose(*l.proposed)
		}
		return
	}
	if nowMs < l.retryAtMs {
		return
	}
	if l.recovering {
		p.maybeEndRecoveryLocked(nowMs) // again, after a failed proposal
		return
	}
	leo := p.log.LogEndOffset()
	isr := slices.DeleteFunc(slices.Clone(l.isr), func(id model.NodeID) bool {
		f := l.followers[id]
		return f != nil && !f.caughtUp(leo, nowMs, p.lagMs())
	})
	if len(isr) != len(l.isr) {
		p.proposeLocked(isr)
	}
}

// maybeExpandISRLocked proposes to add follower id once it is in sync.
// Called under appendMu after its fetch was recorded.
func (p *Partition) maybeExpandISRLocked(id model.NodeID, f *follower, nowMs int64) {
	l := &p.lead
	if l.proposed != nil || l.propose == nil || l.recovering || nowMs < l.retryAtMs ||
		slices.Contains(l.isr, id) || slices.Contains(l.ineligible, id) {
		return
	}
	if f.logEnd < l.hw || f.logEnd < l.epochStart {
		return
	}
	p.proposeLocked(append(slices.Clone(l.isr), id))
}

// proposeLocked records the proposal of isr and hands it to the proposer.
func (p *Partition) proposeLocked(isr []model.NodeID) {
	l := &p.lead
	epochs := make([]int64, len(isr))
	for i, id := range isr {
		epochs[i] = -1
		if f := l.followers[id]; f != nil {
			epochs[i] = f.brokerEpoch
		}
	}
	l.proposed = &ISRChange{TP: p.TP, TopicID: p.TopicID, LeaderEpoch: p.LeaderEpoch(), PartitionEpoch: l.partitionEpoch,
		ISR: slices.Clone(isr), BrokerEpochs: epochs}
	l.resendAtMs = 0
	l.propose(*l.proposed)
}

// maybeEndRecoveryLocked ends the recovery of a leader elected uncleanly
// (KIP-704): once its producer and transaction state is rebuilt from its
// log (what it recovers; Kafka's leader recovers nothing yet), it
// proposes its ISR of itself as recovered, after which followers may join.
// Called under appendMu.
func (p *Partition) maybeEndRecoveryLocked(nowMs int64) {
	l := &p.lead
	if !l.recovering || l.proposed != nil || l.propose == nil || p.Role() != RoleLeader || nowMs < l.retryAtMs {
		return
	}
	if _, err := p.producersLocked(nowMs); err != nil {
		return // the next ISR check tries again
	}
	p.proposeLocked([]model.NodeID{l.local})
}

// maximalISRLocked is the committed ISR with a pending expansion's new
// member (a pending shrink still counts every current member).
func (p *Partition) maximalISRLocked() []model.NodeID {
	l := &p.lead
	if l.proposed != nil && len(l.proposed.ISR) > len(l.isr) {
		return l.proposed.ISR
	}
	return l.isr
}
