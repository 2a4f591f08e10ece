package replica

import (
	"errors"
	"fmt"
	"time"

	"github.com/sluice-io/sluice/internal/batch"
	"github.com/sluice-io/sluice/internal/model"
)

// The follower side of a partition: batches fetched from the leader are
// appended as they are (offsets and leader epochs included) and replayed
// into the producer and transaction state exactly as a load from the log
// replays them, so a follower that becomes leader deduplicates retries of
// batches written under the old leader and holds the same .txnindex;
// truncation (a diverged log after a leader change, KIP-101/279) cuts the
// log and rebuilds that state.

// ErrStaleLeaderEpoch: fetched data from a leader epoch that is not this
// follower's current one (a response to a request sent before the
// leadership changed): it is dropped.
var ErrStaleLeaderEpoch = errors.New("fetched under another leader epoch")

// FollowerData is one partition of a fetch response from the leader.
type FollowerData struct {
	// LeaderEpoch is the follower's leader epoch when it sent the fetch.
	LeaderEpoch model.LeaderEpoch
	// Batches are whole stored batches starting at the follower's log end
	// (or, at a log start inside a batch, at that batch).
	Batches []byte
	// HighWatermark and LogStart are the leader's.
	HighWatermark model.Offset
	LogStart      model.Offset
}

// AppendAsFollower appends what the leader sent and moves the follower's
// high watermark (min of the leader's and its own log end) and log start
// (Kafka's ReplicaFetcherThread.processPartitionData). The caller makes
// the appended bytes durable (WaitDurable) before it reports the new log
// end to the leader in its next fetch: the leader counts that offset
// toward the high watermark.
func (p *Partition) AppendAsFollower(d FollowerData, nowMs int64) error {
	return p.appendAsFollower(d, nowMs)
}

func (p *Partition) appendAsFollower(d FollowerData, nowMs int64) error {
	p.appendMu.Lock()
	defer p.unlockAppend()
	if p.Role() != RoleFollower || p.LeaderEpoch() != d.LeaderEpoch {
		return fmt.Errorf("%w: %s data of epoch %d, now %s at epoch %d", ErrStaleLeaderEpoch, p.TP,
			d.LeaderEpoch, p.Role(), p.LeaderEpoch())
	}
	if len(d.Batches) > 0 {
		if err := p.appendFetchedLocked(d.Batches, nowMs); err != nil {
			return err
		}
		p.wakeOwed = true // new bytes: unlockAppend wakes the watchers
	}
	p.lead.leaderHW = d.HighWatermark // may go down after a leader change, as in Kafka
	if start := min(d.LogStart, p.lead.leaderHW, p.log.LogEndOffset()); start > p.log.LogStartOffset() {
		if err := p.log.DeleteRecordsBefore(start); err != nil {
			return fmt.Errorf("follow log start of %s to %d: %w", p.TP, start, err)
		}
	}
	p.publishLocked(nowMs)
	p.snapshotIfRolledLocked()
	return nil
}

// appendFetchedLocked appends fetched batches and replays them into the
// producer state. Called under appendMu.
func (p *Partition) appendFetchedLocked(b []byte, nowMs int64) error {
	if len(b) < batch.HeaderSize {
		return fmt.Errorf("append to %s as follower: %w: %d bytes", p.TP, batch.ErrCorrupt, len(b))
	}
	st, err := p.producersLocked(nowMs)
	if err != nil {
		return err
	}
	// The leader's log start may lie inside its first batch (DeleteRecords):
	// an empty follower log then starts at that batch (Kafka's handling of
	// UnexpectedAppendOffsetException).
	first := batch.Header(b)
	if end := p.log.LogEndOffset(); end == p.log.LogStartOffset() &&
		model.Offset(first.BaseOffset()) < end && model.Offset(first.LastOffset()) >= end {
		if err := p.log.TruncateFullyAndStartAt(model.Offset(first.BaseOffset())); err != nil {
			return err
		}
		p.prod.state = nil
		if st, err = p.producersLocked(nowMs); err != nil {
			return err
		}
	}
	if err := p.log.AppendAsFollower(b); err != nil {
		return fmt.Errorf("append to %s as follower: %w", p.TP, err)
	}
	for rest := b; len(rest) >= batch.HeaderSize; {
		h := batch.Header(rest)
		n := h.Size()
		switch {
		case h.IsControl() && h.ProducerID() >= 0:
			m, err := parseMarker(rest[:n])
			if err == nil {
				err = p.completeTxnLocked(st, m, model.Offset(h.BaseOffset()), h.MaxTimestamp())
			}
			if err != nil {
				// The batch is in the log: a reload replays it again.
				p.prod.state = nil
				return fmt.Errorf("replay marker at %d of %s: %w", h.BaseOffset(), p.TP, err)
			}
		default:
			replayBatch(st, h)
		}
		rest = rest[n:]
	}
	p.noteOpenLocked(st)
	return nil
}

// TruncateTo removes every batch at or after off (a follower whose log
// diverged from its new leader's) and rebuilds the producer and
// transaction state from what remains. The high watermark follows the
// log end down.
func (p *Partition) TruncateTo(off model.Offset) error {
	p.appendMu.Lock()
	defer p.unlockAppend()
	err := p.log.TruncateTo(off)
	p.afterTruncateLocked()
	return err
}

// TruncateFullyAndStartAt empties the log and restarts it at off (a
// follower that fell below its leader's log start).
func (p *Partition) TruncateFullyAndStartAt(off model.Offset) error {
	p.appendMu.Lock()
	defer p.unlockAppend()
	err := p.log.TruncateFullyAndStartAt(off)
	p.afterTruncateLocked()
	return err
}

// afterTruncateLocked forgets the producer state (the next use rebuilds
// it from the snapshots left and the log) and publishes a view with the
// high watermark at most the new log end. Called under appendMu.
func (p *Partition) afterTruncateLocked() {
	p.prod.state = nil
	p.prod.rolled.Store(false)
	end := p.log.LogEndOffset()
	p.lead.hw = min(p.lead.hw, end)
	p.lead.leaderHW = min(p.lead.leaderHW, end)
	p.publishLocked(time.Now().UnixMilli())
}

// LatestEpoch is the leader epoch of the last batch in the log (or the
// latest epoch its leader epoch cache holds), -1 for none: a follower
// sends it as LastFetchedEpoch.
func (p *Partition) LatestEpoch() model.LeaderEpoch {
	es := p.log.LeaderEpochs()
	if len(es) == 0 {
		return -1
	}
	return es[len(es)-1].Epoch
}
