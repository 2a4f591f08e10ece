package replica

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/sluice-io/sluice/internal/model"
)

// Leadership: what this replica is for its partition (leader or follower),
// the followers' progress as seen by a leader, and the high watermark that
// follows from it (Kafka's Partition and Replica classes).
//
// The high watermark (HW) is what consumers may read and what acks=all
// waits for. On a leader it is the smallest log end among the leader and
// every follower of the maximal ISR (plus any follower caught up within
// replica.lag.time.max.ms, which is about to join it), and it does not
// move while the ISR is smaller than the effective min ISR
// (min(min.insync.replicas, replica count): Kafka's strict min ISR). It
// never goes down on a leader. A follower's HW is the leader's, as of its
// last fetch, capped by its own log end. With one replica (the ISR is the
// leader alone) the HW is the log end offset at every publish, exactly as
// before replication: one code path, no single-node mode.
//
// The state is guarded by the append lock, so an append, a follower's
// fetch and a leadership change each publish a read view computed from
// one consistent state. The role is mirrored in an atomic for the fetch
// path's checks.

// Sentinel errors of leadership, mapped to Kafka codes at the protocol
// edge.
var (
	// ErrNotEnoughReplicas: an acks=all append while the ISR is smaller
	// than the effective min ISR; nothing was appended. Kafka:
	// NOT_ENOUGH_REPLICAS.
	ErrNotEnoughReplicas = errors.New("not enough in-sync replicas")
	// ErrNotEnoughReplicasAfterAppend: the batch was appended and
	// replicated, but the ISR shrank below the min ISR meanwhile. Kafka:
	// NOT_ENOUGH_REPLICAS_AFTER_APPEND.
	ErrNotEnoughReplicasAfterAppend = errors.New("not enough in-sync replicas after the append")
	// ErrUnknownReplica: a fetch from a broker that holds no replica of
	// the partition. Kafka: UNKNOWN_LEADER_EPOCH when the fetch carries
	// the current leader epoch (the follower's metadata is newer than
	// ours), NOT_LEADER_OR_FOLLOWER otherwise.
	ErrUnknownReplica = errors.New("fetch from a broker that is not a replica")
	// ErrStaleBrokerEpoch: a follower fetch with a broker epoch older than
	// the one the leader has seen (a request from before the follower's
	// restart). Kafka: NOT_LEADER_OR_FOLLOWER.
	ErrStaleBrokerEpoch = errors.New("fetch from an older broker epoch of the replica")
)

// Role is what this broker is for a partition.
type Role uint32

// The roles. A replica is a leader from New until told otherwise.
const (
	RoleLeader Role = iota
	RoleFollower
)

func (r Role) String() string {
	if r == RoleLeader {
		return "leader"
	}
	return "follower"
}

// LeaderState is the metadata of a partition this broker leads.
type LeaderState struct {
	Local          model.NodeID // this broker
	LeaderEpoch    model.LeaderEpoch
	PartitionEpoch int32
	Replicas       []model.NodeID
	ISR            []model.NodeID
	// Ineligible are replicas that may not join the ISR (their broker is
	// fenced or gone: Kafka's isReplicaIsrEligible): they neither hold the
	// HW back as caught-up followers nor are proposed for the ISR.
	Ineligible []model.NodeID
	// Recovering: this leader was elected uncleanly (KIP-704); it
	// proposes no ISR change but the one that ends the recovery (isr.go).
	Recovering bool
}

// FollowerState is the metadata of a partition this broker follows (its
// leader is the fetchers' business, cluster/fetcher.go).
type FollowerState struct {
	LeaderEpoch    model.LeaderEpoch
	PartitionEpoch int32
}

// follower is a leader's view of one follower (Kafka's ReplicaState).
type follower struct {
	logEnd model.Offset // the offset of its last fetch: it has everything below; -1 unknown
	// lastFetchLeaderEnd is the leader's log end at its previous fetch,
	// lastFetchMs when that fetch came, lastCaughtUpMs the latest time at
	// which it had everything the leader had.
	lastFetchLeaderEnd model.Offset
	lastFetchMs        int64
	lastCaughtUpMs     int64
	brokerEpoch        int64 // from its fetches; -1 unknown
}

// leadership is a partition's role state; guarded by appendMu.
type leadership struct {
	role           atomic.Uint32 // a Role; written under appendMu, read anywhere
	told           bool          // a MakeLeader or MakeFollower ran
	restored       bool          // RestoreHighWatermark ran: hold the HW until told
	partitionEpoch int32
	isr            []model.NodeID // the committed ISR (leader only)
	// isrSize and replicaCount mirror len(isr) and the replicas for
	// lock-free min ISR checks (setSizesLocked).
	isrSize, replicaCount atomic.Int32
	ineligible            []model.NodeID // LeaderState.Ineligible
	local                 model.NodeID   // LeaderState.Local
	recovering            bool           // LeaderState.Recovering
	// proposed is the ISR proposal sent to the controller whose outcome
	// is not known yet, nil for none (isr.go); resendAtMs is when it is
	// sent again (0: not before an answer), and retryAtMs the time before
	// which no new proposal is made (after a refusal). propose sends
	// proposals.
	proposed   *ISRChange
	resendAtMs int64
	retryAtMs  int64
	propose    func(ISRChange)
	lease      func() bool // SetLease; nil: always held
	// followers is every replica but this one, while leading.
	followers map[model.NodeID]*follower
	// epochStart is the log end when this leader's epoch began (a follower
	// joins the ISR only once it has it), -1 when not leading.
	epochStart model.Offset
	// hw is the high watermark: published in the read view by
	// publishLocked, which recomputes it on a leader.
	hw model.Offset
	// leaderHW is a follower's last high watermark from its leader.
	leaderHW model.Offset
	// hwMoved is closed when the HW moves or the role changes, for
	// WaitCommitted; nil while nobody waits.
	hwMoved atomic.Pointer[chan struct{}]
}

// DefaultReplicaLagTimeMaxMs is replica.lag.time.max.ms's default.
const DefaultReplicaLagTimeMaxMs = 30_000

// Role is this broker's role for the partition.
func (p *Partition) Role() Role { return Role(p.lead.role.Load()) }

// lagMs is replica.lag.time.max.ms.
func (p *Partition) lagMs() int64 {
	if ms := p.cfg.Load().ReplicaLagTimeMaxMs; ms > 0 {
		return ms
	}
	return DefaultReplicaLagTimeMaxMs
}

// RestoreHighWatermark sets the HW of a replica just opened, from the
// HW checkpoint (at most its log end): until its first leadership it
// serves nothing, and a leader moves it on only as its followers report
// (I4: a restarted replica never serves what was not committed).
func (p *Partition) RestoreHighWatermark(hw model.Offset) {
	p.appendMu.Lock()
	defer p.unlockAppend()
	p.lead.hw = max(min(hw, p.log.LogEndOffset()), p.log.LogStartOffset())
	p.lead.leaderHW = p.lead.hw
	p.lead.restored = true
	p.publishLocked(time.Now().UnixMilli())
}

// MakeLeader makes this broker the partition's leader as st describes
// (Kafka's Partition.makeLeader). A state older than the one applied
// (a smaller partition epoch) is ignored. On a new leader epoch the
// epoch's start offset (the log end) goes into the leader epoch cache,
// so that a follower holding entries of a later, lost epoch truncates to
// it, and every follower's progress starts over. The HW is kept and moves
// only as followers report. Waiters of WaitCommitted are woken to see the
// change. It returns whether anything changed.
func (p *Partition) MakeLeader(st LeaderState, nowMs int64) (bool, error) {
	p.appendMu.Lock()
	defer p.unlockAppend()
	l := &p.lead
	if st.PartitionEpoch < l.partitionEpoch {
		return false, nil
	}
	newEpoch := !l.told || st.LeaderEpoch > p.LeaderEpoch() || p.Role() != RoleLeader
	wasLeader := l.told && p.Role() == RoleLeader
	if !l.told || st.PartitionEpoch > l.partitionEpoch || newEpoch {
		// The partition state moved on: it holds the pending proposal's
		// outcome. The same state applied again does not (isr.go).
		l.proposed, l.resendAtMs, l.retryAtMs = nil, 0, 0
	}
	l.told = true
	l.partitionEpoch = st.PartitionEpoch
	l.isr = slices.Clone(st.ISR)
	l.ineligible = slices.Clone(st.Ineligible)
	l.local, l.recovering = st.Local, st.Recovering
	if newEpoch {
		end := p.log.LogEndOffset()
		if err := p.log.AssignEpoch(st.LeaderEpoch, end); err != nil {
			return false, fmt.Errorf("become leader of %s at epoch %d: %w", p.TP, st.LeaderEpoch, err)
		}
		l.epochStart = end
		p.leaderEpoch.Store(int32(st.LeaderEpoch))
	}
	old := l.followers
	l.followers = make(map[model.NodeID]*follower, len(st.Replicas))
	for _, id := range st.Replicas {
		if id == st.Local {
			continue
		}
		f := old[id]
		inISR := slices.Contains(st.ISR, id)
		switch {
		case f == nil || !wasLeader:
			f = &follower{logEnd: -1, brokerEpoch: -1}
			if inISR {
				f.lastCaughtUpMs = nowMs
			}
		case newEpoch: // re-elected: Kafka's resetReplicaState, not a new leader
			f.lastFetchLeaderEnd = l.epochStart
			f.lastFetchMs, f.lastCaughtUpMs = 0, 0
			if inISR {
				f.lastFetchMs, f.lastCaughtUpMs = nowMs, nowMs
			}
		}
		l.followers[id] = f
	}
	if !wasLeader {
		l.hw = min(l.hw, p.log.LogEndOffset())
	}
	l.role.Store(uint32(RoleLeader))
	p.setSizesLocked()
	p.publishLocked(nowMs)
	p.wakeCommitWaiters()
	p.maybeEndRecoveryLocked(nowMs)
	return true, nil
}

// MakeFollower makes this broker a follower of the partition (Kafka's
// Partition.makeFollower). A state older than the one applied is ignored.
// It reports whether the leader epoch changed, which restarts the
// fetching from the leader. Pending WaitCommitted calls fail with
// ErrNotLeader.
func (p *Partition) MakeFollower(st FollowerState, nowMs int64) (epochChanged bool) {
	p.appendMu.Lock()
	defer p.unlockAppend()
	l := &p.lead
	if st.PartitionEpoch < l.partitionEpoch {
		return false
	}
	epochChanged = !l.told || st.LeaderEpoch > p.LeaderEpoch() || p.Role() != RoleFollower
	l.told = true
	l.partitionEpoch = st.PartitionEpoch
	l.isr, l.followers, l.proposed = nil, nil, nil
	l.epochStart = -1
	l.leaderHW = l.hw // until the new leader tells
	p.leaderEpoch.Store(int32(st.LeaderEpoch))
	l.role.Store(uint32(RoleFollower))
	p.setSizesLocked()
	p.publishLocked(nowMs)
	p.wakeCommitWaiters()
	return epochChanged
}

// effectiveMinISR is min(min.insync.replicas, replica count).
func (p *Partition) effectiveMinISR() int {
	n := max(int(p.cfg.Load().MinInsyncReplicas), 1)
	return min(n, int(p.lead.replicaCount.Load()))
}

// underMinISR reports a committed ISR smaller than the effective min
// ISR. It takes no lock: acks=all checks it after every wait.
func (p *Partition) underMinISR() bool {
	return int(p.lead.isrSize.Load()) < p.effectiveMinISR()
}

// setSizesLocked mirrors the ISR and replica counts for underMinISR; a
// replica never told its role is a leader alone. Called under appendMu
// whenever the ISR or the followers change.
func (p *Partition) setSizesLocked() {
	l := &p.lead
	isr, replicas := len(l.isr), len(l.followers)+1
	if !l.told {
		isr = 1
	}
	l.isrSize.Store(int32(isr))
	l.replicaCount.Store(int32(replicas))
}

// checkLeaderLocked refuses an append when this broker does not lead the
// partition, or when it is acks=all and the ISR is too small (Kafka's
// appendRecordsToLeader, before anything is written). Called under
// appendMu.
func (p *Partition) checkLeaderLocked(acksAll bool) error {
	if p.Role() != RoleLeader {
		return fmt.Errorf("%w: %s", ErrNotLeader, p.TP)
	}
	if acksAll && p.underMinISR() {
		return fmt.Errorf("%w: %s has %d in-sync replicas, min.insync.replicas needs %d",
			ErrNotEnoughReplicas, p.TP, p.lead.isrSize.Load(), p.effectiveMinISR())
	}
	return nil
}

// computeHWLocked returns the high watermark for the log as it is now
// (see the file comment). Called under appendMu.
func (p *Partition) computeHWLocked(nowMs int64) model.Offset {
	l := &p.lead
	leo := p.log.LogEndOffset()
	switch {
	case l.restored && !l.told:
		return min(l.hw, leo)
	case p.Role() != RoleLeader:
		return min(l.leaderHW, leo)
	}
	if len(l.followers) == 0 {
		return leo
	}
	if p.underMinISR() || p.leaseLostLocked() {
		return min(l.hw, leo)
	}
	hw := leo
	isr := p.maximalISRLocked()
	for id, f := range l.followers {
		if f.logEnd >= hw {
			continue
		}
		if slices.Contains(isr, id) || (f.caughtUp(leo, nowMs, p.lagMs()) && !slices.Contains(l.ineligible, id)) {
			hw = max(f.logEnd, 0)
		}
	}
	return min(max(hw, l.hw), leo)
}

// caughtUp is Kafka's ReplicaState.isCaughtUp.
func (f *follower) caughtUp(leaderEnd model.Offset, nowMs, lagMs int64) bool {
	return f.logEnd == leaderEnd || nowMs-f.lastCaughtUpMs <= lagMs
}

// FollowerFetch is what a follower's fetch tells its leader.
type FollowerFetch struct {
	Replica     model.NodeID
	FetchOffset model.Offset // it holds every offset below, durably
	BrokerEpoch int64        // -1 when not sent
}

// UpdateFollowerFetch records a follower's fetch (Kafka's
// updateFollowerFetchState) and moves the HW if it can. It fails with
// ErrNotLeader when this broker does not lead, ErrUnknownReplica for a
// broker outside the replicas and ErrStaleBrokerEpoch for a fetch from
// before the follower's restart.
func (p *Partition) UpdateFollowerFetch(ff FollowerFetch, nowMs int64) error {
	p.appendMu.Lock()
	defer p.unlockAppend()
	if p.Role() != RoleLeader {
		return fmt.Errorf("%w: %s", ErrNotLeader, p.TP)
	}
	f := p.lead.followers[ff.Replica]
	if f == nil {
		return fmt.Errorf("%w: broker %d for %s", ErrUnknownReplica, ff.Replica, p.TP)
	}
	if ff.BrokerEpoch >= 0 && f.brokerEpoch > ff.BrokerEpoch {
		return fmt.Errorf("%w: broker %d epoch %d, seen %d", ErrStaleBrokerEpoch, ff.Replica, ff.BrokerEpoch, f.brokerEpoch)
	}
	leo := p.log.LogEndOffset()
	switch {
	case ff.FetchOffset >= leo:
		f.lastCaughtUpMs = max(f.lastCaughtUpMs, nowMs)
	case ff.FetchOffset >= f.lastFetchLeaderEnd:
		f.lastCaughtUpMs = max(f.lastCaughtUpMs, f.lastFetchMs)
	}
	f.logEnd = ff.FetchOffset
	f.lastFetchLeaderEnd = max(leo, f.lastFetchLeaderEnd)
	f.lastFetchMs, f.brokerEpoch = nowMs, max(f.brokerEpoch, ff.BrokerEpoch) // a fetch without one (-1) forgets none
	p.maybeExpandISRLocked(ff.Replica, f, nowMs)
	if p.computeHWLocked(nowMs) != p.lead.hw {
		p.publishLocked(nowMs)
	}
	return nil
}

// WaitCommitted blocks until every offset below end is committed: the HW
// has passed it (every member of the ISR holds it durably) and, unless
// the topic caches writes, the leader's own copy is fsynced. This is
// acks=all. It fails with ErrNotLeader when this broker stops leading or
// starts a new leader epoch meanwhile (the batch may be gone), with
// ErrNotEnoughReplicasAfterAppend when the ISR is under the min ISR once
// the HW passed, and with ctx's error.
func (p *Partition) WaitCommitted(ctx context.Context, end model.Offset) error {
	return p.WaitCommittedAt(ctx, end, p.LeaderEpoch())
}

// WaitCommittedAt is WaitCommitted for records appended while this
// replica led at epoch (read before the append: a leadership change
// between the read and the append fails the wait, spuriously but
// safely). Reading the epoch only when the wait starts would miss a
// change between the append and the wait: a replica that became a
// follower, truncated the records away and led again would count its
// new log toward them.
func (p *Partition) WaitCommittedAt(ctx context.Context, end model.Offset, epoch model.LeaderEpoch) error {
	var ch chan struct{} // taken only when the HW is short: one leader alone never needs it
	for {
		if p.Role() != RoleLeader || p.LeaderEpoch() != epoch {
			return fmt.Errorf("%w: %s changed leadership while waiting for replicas", ErrNotLeader, p.TP)
		}
		if p.HighWatermark() >= end {
			break
		}
		if ch == nil {
			ch = p.commitWaitChan()
			continue // look again: the HW may have moved before the channel was there
		}
		select {
		case <-ch:
			ch = nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if !p.cfg.Load().WriteCaching {
		if err := p.log.WaitDurable(ctx, end); err != nil {
			return err
		}
	}
	if p.underMinISR() {
		return fmt.Errorf("%w: %s", ErrNotEnoughReplicasAfterAppend, p.TP)
	}
	return nil
}

// commitWaitChan returns the channel the next HW move closes. A waiter
// takes it before reading the HW; publishLocked stores the HW before
// taking it: a waiter that read an old HW holds a channel the move
// closes.
func (p *Partition) commitWaitChan() chan struct{} {
	for {
		if ch := p.lead.hwMoved.Load(); ch != nil {
			return *ch
		}
		ch := make(chan struct{})
		if p.lead.hwMoved.CompareAndSwap(nil, &ch) {
			return ch
		}
	}
}

// wakeCommitWaiters wakes every WaitCommitted to look again.
func (p *Partition) wakeCommitWaiters() {
	if ch := p.lead.hwMoved.Swap(nil); ch != nil {
		close(*ch)
	}
}
