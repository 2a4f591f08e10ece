package group

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/batch"
	"github.com/sluice-io/sluice/internal/coord/runtime"
	"github.com/sluice-io/sluice/internal/model"
)

// Transactional offset commits (KIP-98, KIP-447). A TxnOffsetCommit is
// written as OffsetCommit records in a transactional batch of the
// producer, exactly as Kafka writes it, and stays pending, invisible to
// OffsetFetch, until the transaction coordinator's marker for that
// producer reaches the partition: COMMIT makes the offsets the group's
// committed offsets (unless a plain commit written later is newer), ABORT
// drops them. While a partition has a pending transactional offset,
// OffsetFetch with require_stable answers UNSTABLE_OFFSET_COMMIT for it.

// pendingTxn is one producer's uncommitted offsets: group -> topic ->
// partition -> offset.
type pendingTxn map[string]map[string]map[int32]*offset

// txnProducer is what the partition's producer state knows of a producer
// that wrote here: the epochs its batches and markers are checked
// against. The shard refuses what the partition would refuse, so a
// fenced write never reaches the log (where a failed append would stop
// the shard).
type txnProducer struct {
	epoch            model.ProducerEpoch
	coordinatorEpoch int32
}

// sawProducer records the epochs of a replayed batch or marker.
func (s *shard) sawProducer(pid model.ProducerID, epoch model.ProducerEpoch, coordinatorEpoch int32) {
	if s.txnProducers == nil {
		s.txnProducers = map[model.ProducerID]txnProducer{}
	}
	p, ok := s.txnProducers[pid]
	if !ok {
		p.coordinatorEpoch = -1
	}
	p.epoch = max(p.epoch, epoch)
	p.coordinatorEpoch = max(p.coordinatorEpoch, coordinatorEpoch)
	s.txnProducers[pid] = p
}

// replayTxnOffset records a transactional offset commit record.
func (s *shard) replayTxnOffset(h batch.Header, k kmsg.OffsetCommitKey, rec *batch.Record) error {
	pid := model.ProducerID(h.ProducerID())
	s.sawProducer(pid, model.ProducerEpoch(h.ProducerEpoch()), -1)
	if s.pendingTxns == nil {
		s.pendingTxns = map[model.ProducerID]pendingTxn{}
	}
	if s.groups[k.Group] == nil {
		s.groups[k.Group] = newGroup(k.Group, rec.Timestamp) // as a plain commit would
	}
	p := s.pendingTxns[pid]
	if p == nil {
		p = pendingTxn{}
		s.pendingTxns[pid] = p
	}
	ts := p[k.Group]
	if ts == nil {
		ts = map[string]map[int32]*offset{}
		p[k.Group] = ts
	}
	ps := ts[k.Topic]
	if ps == nil {
		ps = map[int32]*offset{}
		ts[k.Topic] = ps
	}
	if rec.Value == nil {
		delete(ps, k.Partition)
		return nil
	}
	o, err := decodeOffset(rec.Value)
	if err != nil {
		return fmt.Errorf("group %q %s-%d: %w", k.Group, k.Topic, k.Partition, err)
	}
	o.recordOffset = rec.Offset
	ps[k.Partition] = o
	return nil
}

// ReplayMarker ends a producer's transaction in this partition: its
// pending offsets are committed or dropped (Kafka's
// replayEndTransactionMarker). It makes the shard a
// runtime.MarkerReplayer.
func (s *shard) ReplayMarker(h batch.Header, commit bool, coordinatorEpoch int32) error {
	pid := model.ProducerID(h.ProducerID())
	s.sawProducer(pid, model.ProducerEpoch(h.ProducerEpoch()), coordinatorEpoch)
	p := s.pendingTxns[pid]
	delete(s.pendingTxns, pid)
	if !commit {
		return nil
	}
	for id, ts := range p {
		g := s.groups[id]
		if g == nil {
			g = newGroup(id, h.MaxTimestamp())
			s.groups[id] = g
		}
		for topic, ps := range ts {
			for part, o := range ps {
				cur := g.offsets[topic][part]
				// The newest commit record wins, transactional or not.
				if cur != nil && cur.recordOffset > o.recordOffset {
					continue
				}
				if g.offsets[topic] == nil {
					g.offsets[topic] = map[int32]*offset{}
				}
				g.offsets[topic][part] = o
			}
		}
	}
	return nil
}

// hasPendingTxnOffset reports whether a transaction has an uncommitted
// offset for the group's partition.
func (s *shard) hasPendingTxnOffset(groupID, topic string, partition int32) bool {
	for _, p := range s.pendingTxns {
		if _, ok := p[groupID][topic][partition]; ok {
			return true
		}
	}
	return false
}

// markUnstable turns the fetched offsets that a transaction may still
// change into UNSTABLE_OFFSET_COMMIT (require_stable, KIP-447).
func (s *shard) markUnstable(groupID string, out []fetchedOffset) {
	if len(s.pendingTxns) == 0 {
		return
	}
	for i := range out {
		o := &out[i]
		if s.hasPendingTxnOffset(groupID, o.topic, o.partition) {
			*o = fetchedOffset{topic: o.topic, partition: o.partition, offset: -1, epoch: -1, code: codeUnstableOffsetCommit}
		}
	}
}

// txnCommitPartition is one partition of a TxnOffsetCommit whose topic
// exists.
type txnCommitPartition struct {
	topic string
	part  *kmsg.TxnOffsetCommitRequestTopicPartition
	resp  *kmsg.TxnOffsetCommitResponseTopicPartition
}

// txnCommit writes the partitions of a TxnOffsetCommit as one
// transactional batch of the producer.
func (s *shard) txnCommit(w *runtime.Writer, req *kmsg.TxnOffsetCommitRequest, parts []txnCommitPartition) {
	if code := s.validateTxnCommit(req); code != 0 {
		for _, p := range parts {
			p.resp.ErrorCode = code
		}
		return
	}
	w.Transactional(model.ProducerID(req.ProducerID), model.ProducerEpoch(req.ProducerEpoch))
	now := w.Now().UnixMilli()
	for _, p := range parts {
		meta := ""
		if p.part.Metadata != nil {
			meta = *p.part.Metadata
		}
		if len(meta) > s.opts.OffsetMetadataMaxBytes {
			p.resp.ErrorCode = codeOffsetMetadataTooLarge
			continue
		}
		o := &offset{offset: p.part.Offset, leaderEpoch: p.part.LeaderEpoch, metadata: meta, commitMs: now, expireMs: -1}
		if req.Version < 2 {
			o.leaderEpoch = -1
		}
		w.Append(offsetKey(req.Group, p.topic, p.part.Partition), offsetValue(o))
	}
}

// validateTxnCommit is Kafka's validateTransactionalOffsetCommit: a group
// that does not exist takes commits of generation -1 only; in one that
// does, a member that names itself must be current, and, unlike a plain
// commit, a transactional one needs no member and is accepted during
// CompletingRebalance.
func (s *shard) validateTxnCommit(req *kmsg.TxnOffsetCommitRequest) int16 {
	g := s.groups[req.Group]
	if g != nil && g.consumer != nil { // a KIP-848 group: member epochs
		return s.validateConsumerTxnCommit(g, req.MemberID, req.Generation)
	}
	if p, ok := s.txnProducers[model.ProducerID(req.ProducerID)]; ok && model.ProducerEpoch(req.ProducerEpoch) < p.epoch {
		return codeInvalidProducerEpoch
	}
	if g == nil {
		switch {
		case req.Generation < 0:
			return 0
		case req.Version >= 6:
			return codeGroupIDNotFound
		}
		return codeIllegalGeneration
	}
	if g.state == Dead {
		return codeCoordinatorNotAvailable
	}
	if req.Generation < 0 && g.state == Empty {
		return 0
	}
	code, _ := g.validateCommitter(req.Generation, req.MemberID, req.InstanceID)
	return code
}

// TxnOffsetCommit handles a TxnOffsetCommit: partitions of unknown topics
// get UNKNOWN_TOPIC_OR_PARTITION; the rest are written as the producer's
// transactional records, pending until its transaction ends, and answered
// once durable. Whether the group's partition is part of the producer's
// transaction is the caller's check (AddOffsetsToTxn, KIP-890).
func (c *Coordinator) TxnOffsetCommit(req *kmsg.TxnOffsetCommitRequest) func() *kmsg.TxnOffsetCommitResponse {
	r := req.ResponseKind().(*kmsg.TxnOffsetCommitResponse)
	im := c.image()
	r.Topics = make([]kmsg.TxnOffsetCommitResponseTopic, len(req.Topics))
	var parts []txnCommitPartition
	for i := range req.Topics {
		rt, st := &req.Topics[i], &r.Topics[i]
		*st = kmsg.NewTxnOffsetCommitResponseTopic()
		st.Topic, st.TopicID = rt.Topic, rt.TopicID
		st.Partitions = make([]kmsg.TxnOffsetCommitResponseTopicPartition, len(rt.Partitions))
		t, unknown := im.Topics[rt.Topic], codeUnknownTopicOrPartition
		if req.Version >= 6 { // topics by id (KIP-516)
			t, unknown = im.TopicIDs[model.TopicID(rt.TopicID)], codeUnknownTopicID
		}
		for j := range rt.Partitions {
			sp := &st.Partitions[j]
			*sp = kmsg.NewTxnOffsetCommitResponseTopicPartition()
			sp.Partition = rt.Partitions[j].Partition
			if t == nil {
				sp.ErrorCode = unknown
				continue
			}
			if sp.Partition < 0 || int(sp.Partition) >= len(t.Partitions) {
				sp.ErrorCode = codeUnknownTopicOrPartition
				continue
			}
			parts = append(parts, txnCommitPartition{topic: t.Name, part: &rt.Partitions[j], resp: sp})
		}
	}
	wait := func() int16 { return codeInvalidGroupID }
	if req.Group != "" {
		wait = c.submit(req.Group, func(s *shard, w *runtime.Writer) { s.txnCommit(w, req, parts) })
	}
	return func() *kmsg.TxnOffsetCommitResponse {
		if code := wait(); code != 0 {
			for _, p := range parts {
				p.resp.ErrorCode = code
			}
		}
		return r
	}
}

// CompleteTransaction writes the transaction coordinator's marker for a
// producer to the __consumer_offsets partition this broker leads, ending
// the producer's pending offset commits there (WriteTxnMarkers). It
// returns once the marker is durable; the code is NOT_COORDINATOR when
// this broker does not lead the partition, COORDINATOR_LOAD_IN_PROGRESS
// while it loads, or the error of the marker's append.
func (c *Coordinator) CompleteTransaction(partition int32, pid model.ProducerID, epoch model.ProducerEpoch, coordinatorEpoch int32, commit bool) int16 {
	if c == nil {
		return codeCoordinatorNotAvailable
	}
	sl, code := c.slots.Get(partition)
	if code != 0 {
		return code
	}
	err := sl.Run(func(s *shard, w *runtime.Writer) {
		if code = s.checkMarker(pid, epoch, coordinatorEpoch); code == 0 {
			w.AppendMarker(pid, epoch, coordinatorEpoch, commit)
		}
	})
	if err != nil {
		return runtimeCode(err)
	}
	return code
}

// checkMarker is the partition's check of a marker (replica.AppendTxnMarker).
func (s *shard) checkMarker(pid model.ProducerID, epoch model.ProducerEpoch, coordinatorEpoch int32) int16 {
	p, ok := s.txnProducers[pid]
	switch {
	case !ok:
		return 0
	case epoch < p.epoch:
		return codeInvalidProducerEpoch
	case coordinatorEpoch < p.coordinatorEpoch:
		return codeTransactionCoordinatorFenced
	}
	return 0
}
