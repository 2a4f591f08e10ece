package controller

import (
	"slices"

	"github.com/sluice-io/sluice/internal/metadata"
	"github.com/sluice-io/sluice/internal/model"
)

// Leadership and ISR changes that follow a broker's fencing and
// unfencing, with Kafka's eligible leader replicas (KIP-966). While a
// partition's ISR is below min.insync.replicas its high watermark stands
// still (strict min ISR, replica/leadership.go), so every member that
// leaves the ISR then holds every committed record: it joins the ELR,
// durably so in Sluice (a follower fsyncs what it reports), and an
// unclean shutdown does not take it out. Once the ISR is back at min ISR
// the ELR is empty. A leader is chosen from the live ISR members first,
// then from the live ELR members (no record committed is lost either
// way), and only then, when the topic allows it, from any live replica
// (unclean: the ELR is emptied, its guarantee no longer holds). Unlike
// Kafka's ELR mode the ISR never becomes empty: its last member stays,
// as before KIP-966, and moves to the ELR when an ELR member takes over.

// policy is what elections need to know of a topic.
type policy struct {
	unclean func(*metadata.Topic) bool // unclean.leader.election.enable
	minISR  func(*metadata.Topic) int  // min.insync.replicas
}

// policy returns c's election policy as it holds in im.
func (c *Controller) policy(im *metadata.Image) policy {
	return policy{
		unclean: func(t *metadata.Topic) bool { return c.unclean(im, t) },
		minISR: func(t *metadata.Topic) int {
			if c.opts.MinInsyncReplicas == nil {
				return 1
			}
			return c.opts.MinInsyncReplicas(im, t)
		},
	}
}

// unclean reports whether unclean.leader.election.enable holds for t.
func (c *Controller) unclean(im *metadata.Image, t *metadata.Topic) bool {
	return c.opts.UncleanLeaderElection != nil && c.opts.UncleanLeaderElection(im, t)
}

// effectiveMinISR is min ISR for p as its leader applies it: at least 1,
// at most its replica count.
func (pol policy) effectiveMinISR(t *metadata.Topic, p metadata.Partition) int {
	return min(max(pol.minISR(t), 1), len(p.Replicas))
}

// nextELR is p's ELR once its ISR becomes isr: empty at or above min ISR;
// below it, the current ELR and the members isr drops, in replica order,
// never a member of isr.
func nextELR(p metadata.Partition, isr []model.NodeID, minISR int) []model.NodeID {
	if len(isr) >= minISR {
		return nil
	}
	var out []model.NodeID
	for _, r := range p.Replicas {
		if !slices.Contains(isr, r) && (slices.Contains(p.ELR, r) || slices.Contains(p.ISR, r)) {
			out = append(out, r)
		}
	}
	return out
}

// change is the record that moves t's partition i from p to leader and
// isr (a new leader raises the leader epoch), the ELR following. A
// recovering leader (KIP-704) stays recovering.
func (pol policy) change(t *metadata.Topic, i int, p metadata.Partition, leader model.NodeID, isr []model.NodeID) *metadata.PartitionRecord {
	epoch := p.LeaderEpoch
	if leader != p.Leader {
		epoch++
	}
	return &metadata.PartitionRecord{TopicID: t.ID, Partition: int32(i), Leader: leader, LeaderEpoch: epoch,
		Epoch: p.Epoch + 1, Replicas: p.Replicas, ISR: isr, ELR: nextELR(p, isr, pol.effectiveMinISR(t, p)),
		Recovering: p.Recovering && leader == p.Leader}
}

// electClean picks a live leader that holds every committed record: an
// ISR member, else an ELR member, in replica order; -1 when none lives.
// The ISR it returns is the kept one, or the ELR member alone.
func electClean(p metadata.Partition, isr []model.NodeID, live func(model.NodeID) bool) (model.NodeID, []model.NodeID) {
	for _, r := range p.Replicas {
		if slices.Contains(isr, r) && live(r) {
			return r, isr
		}
	}
	for _, r := range p.Replicas {
		if slices.Contains(p.ELR, r) && live(r) {
			return r, []model.NodeID{r}
		}
	}
	return -1, isr
}

// fenceRecords fences broker id and moves its partitions' leadership and
// ISR membership away from it; a partition left without a live ISR or
// ELR member goes to its first live replica when the topic allows
// unclean leader election (uncleanLeader).
func (c *Controller) fenceRecords(im *metadata.Image, id model.NodeID) []metadata.Record {
	return fenceRecords(im, id, c.policy(im))
}

func fenceRecords(im *metadata.Image, id model.NodeID, pol policy) []metadata.Record {
	b := im.Brokers[id]
	if b == nil || b.Fenced {
		return nil
	}
	rec := b.Record(true)
	recs := []metadata.Record{{Broker: &rec}}
	live := func(n model.NodeID) bool { return n != id && im.Brokers[n] != nil && !im.Brokers[n].Fenced }
	for _, name := range im.TopicNames() {
		t := im.Topics[name]
		for i, p := range t.Partitions {
			if !slices.Contains(p.Replicas, id) {
				continue
			}
			isr := slices.DeleteFunc(slices.Clone(p.ISR), func(n model.NodeID) bool { return n == id })
			if len(isr) == 0 {
				isr = []model.NodeID{id} // the last member stays: only it and the ELR have everything
			}
			leader := p.Leader
			if p.Leader == id {
				leader, isr = electClean(p, isr, live)
				if leader < 0 && pol.unclean(t) {
					if leader = uncleanLeader(im, p, id); leader >= 0 {
						recs = append(recs, metadata.Record{Partition: uncleanChange(t, i, p, leader)})
						continue
					}
				}
			}
			if leader == p.Leader && slices.Equal(isr, p.ISR) {
				continue
			}
			recs = append(recs, metadata.Record{Partition: pol.change(t, i, p, leader, isr)})
		}
	}
	return recs
}

// unfenceRecords unfences broker id and gives it the partitions left
// without a leader whose ISR or ELR holds it.
func (c *Controller) unfenceRecords(im *metadata.Image, id model.NodeID) []metadata.Record {
	return unfenceRecords(im, id, c.policy(im))
}

func unfenceRecords(im *metadata.Image, id model.NodeID, pol policy) []metadata.Record {
	b := im.Brokers[id]
	if b == nil || !b.Fenced {
		return nil
	}
	rec := b.Record(false)
	recs := []metadata.Record{{Broker: &rec}}
	for _, name := range im.TopicNames() {
		t := im.Topics[name]
		for i, p := range t.Partitions {
			if p.Leader >= 0 {
				continue
			}
			if leader, isr := electClean(p, p.ISR, func(n model.NodeID) bool { return n == id }); leader >= 0 {
				recs = append(recs, metadata.Record{Partition: pol.change(t, i, p, leader, isr)})
			}
		}
	}
	return recs
}

// uncleanLeader is the first live replica of a partition whose ISR and
// ELR have no live member left, or -1.
func uncleanLeader(im *metadata.Image, p metadata.Partition, dead model.NodeID) model.NodeID {
	for _, r := range p.Replicas {
		if b := im.Brokers[r]; r != dead && b != nil && !b.Fenced {
			return r
		}
	}
	return -1
}

// uncleanChange makes leader the leader of t's partition i with an ISR of
// itself (Kafka's unclean election: what it lacks of the old leader's log
// is lost) and no ELR (its members may hold records the new leader has
// not, which they will truncate), recovering (KIP-704): the ISR stays
// the leader alone until the leader says it recovered.
func uncleanChange(t *metadata.Topic, i int, p metadata.Partition, leader model.NodeID) *metadata.PartitionRecord {
	return &metadata.PartitionRecord{TopicID: t.ID, Partition: int32(i), Leader: leader, LeaderEpoch: p.LeaderEpoch + 1,
		Epoch: p.Epoch + 1, Replicas: p.Replicas, ISR: []model.NodeID{leader}, Recovering: true}
}

// uncleanRecords elects leaders for the partitions without one whose
// topic allows unclean election (it may have been turned on after they
// lost their leader, as Kafka's controller checks periodically).
func (c *Controller) uncleanRecords(im *metadata.Image) []metadata.Record {
	var recs []metadata.Record
	for _, name := range im.TopicNames() {
		t := im.Topics[name]
		for i, p := range t.Partitions {
			if p.Leader >= 0 || !c.unclean(im, t) {
				continue
			}
			if l := uncleanLeader(im, p, -1); l >= 0 {
				recs = append(recs, metadata.Record{Partition: uncleanChange(t, i, p, l)})
			}
		}
	}
	return recs
}
