package txn

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/sluice-io/sluice/internal/coord/group"
	"github.com/sluice-io/sluice/internal/coord/runtime"
	"github.com/sluice-io/sluice/internal/metadata"
	"github.com/sluice-io/sluice/internal/model"
	"github.com/sluice-io/sluice/internal/replica"
)

// Marker is one transaction's markers: COMMIT or ABORT for the producer,
// to be written to each partition of the transaction. A plain value.
type Marker struct {
	ProducerID       model.ProducerID
	ProducerEpoch    model.ProducerEpoch
	CoordinatorEpoch int32
	Commit           bool
	Partitions       []model.TopicPartition
}

// MarkerWriter writes transaction markers to the leaders of their
// partitions (Kafka's TransactionMarkerChannelManager, WriteTxnMarkers).
// It returns one error per partition, nil once that marker is durable.
// An error wrapping kerr.UnknownTopicOrPartition means the partition is
// gone (the marker is not needed); replica.ErrInvalidProducerEpoch,
// replica.ErrTransactionCoordinatorFenced or their kerr codes that a
// newer coordinator or producer epoch took over (the marker must not be
// written); anything else is retried. Must be safe for concurrent use.
type MarkerWriter interface {
	WriteMarkers(ctx context.Context, m Marker) []error
}

// LocalMarkers writes markers to the partitions this broker leads: data
// partitions through their replica, __consumer_offsets partitions through
// the group coordinator (which ends its pending transactional offsets).
// A partition led elsewhere gets NOT_LEADER_OR_FOLLOWER. Safe for
// concurrent use.
type LocalMarkers struct {
	NodeID   model.NodeID
	Metadata *metadata.Publisher
	Replicas Replicas
	Groups   *group.Coordinator
	Clock    runtime.Clock
}

// WriteMarkers writes m to every partition of m that this broker leads.
func (l *LocalMarkers) WriteMarkers(ctx context.Context, m Marker) []error {
	im := l.Metadata.Current()
	errs := make([]error, len(m.Partitions))
	var waits []func()
	for i, tp := range m.Partitions {
		t := im.Topics[tp.Topic]
		switch {
		case t == nil || tp.Partition < 0 || int(tp.Partition) >= len(t.Partitions):
			errs[i] = fmt.Errorf("marker for %s: %w", tp, kerr.UnknownTopicOrPartition)
			continue
		case t.Partitions[tp.Partition].Leader != l.NodeID:
			errs[i] = fmt.Errorf("marker for %s: %w", tp, kerr.NotLeaderForPartition)
			continue
		}
		if tp.Topic == group.OffsetsTopic {
			if code := l.Groups.CompleteTransaction(tp.Partition, m.ProducerID, m.ProducerEpoch, m.CoordinatorEpoch, m.Commit); code != 0 {
				errs[i] = fmt.Errorf("marker for %s: %w", tp, kerr.ErrorForCode(code))
			}
			continue
		}
		part := l.Replicas.Get(tp)
		if part == nil {
			errs[i] = fmt.Errorf("marker for %s: %w", tp, kerr.NotLeaderForPartition)
			continue
		}
		epoch := part.LeaderEpoch() // before the append: the wait checks it
		off, err := part.AppendTxnMarker(replica.TxnMarker{ProducerID: m.ProducerID, ProducerEpoch: m.ProducerEpoch,
			CoordinatorEpoch: m.CoordinatorEpoch, Commit: m.Commit}, l.Clock.Now().UnixMilli())
		if err != nil {
			errs[i] = fmt.Errorf("marker for %s: %w", tp, err)
			continue
		}
		// Committed before the coordinator writes CompleteCommit: the
		// fsync is shared by every marker written meanwhile.
		waits = append(waits, func() {
			if err := part.WaitCommittedAt(ctx, off+1, epoch); err != nil {
				errs[i] = fmt.Errorf("marker for %s: %w", tp, err)
			}
		})
	}
	for _, w := range waits {
		w()
	}
	return errs
}

// markerDone classifies a marker write's outcome: done (written, or not
// needed any more) or to be retried.
func markerDone(err error) bool {
	return err == nil ||
		errors.Is(err, kerr.UnknownTopicOrPartition) ||
		errors.Is(err, replica.ErrInvalidProducerEpoch) || errors.Is(err, kerr.InvalidProducerEpoch) ||
		errors.Is(err, replica.ErrTransactionCoordinatorFenced) || errors.Is(err, kerr.TransactionCoordinatorFenced)
}

// startCompletion writes the markers of m, a transaction in PrepareCommit
// or PrepareAbort whose record is durable, then moves it to
// CompleteCommit or CompleteAbort. It runs until done or until the shard
// unloads (its next leader starts over from the log).
func (c *Coordinator) startCompletion(sl *slot, m *meta) {
	c.slots.Go(func() {
		select {
		case <-sl.Ready(): // a completion started by Loaded waits for the slot
		case <-sl.Context().Done():
			return
		}
		if !c.writeMarkers(sl, m) {
			return
		}
		if err := sl.Run(func(s *shard, w *runtime.Writer) { s.complete(w, m) }); err != nil {
			c.opts.Logger.Warn("complete transaction", "transactional_id", m.id, "err", err)
		}
	})
}

// writeMarkers writes m's markers until each partition is done; false
// when the slot unloaded first.
func (c *Coordinator) writeMarkers(sl *slot, m *meta) bool {
	mk := Marker{ProducerID: m.producerID, ProducerEpoch: m.epoch, CoordinatorEpoch: int32(sl.Epoch()),
		Commit: m.state == PrepareCommit, Partitions: m.sortedPartitions()}
	for len(mk.Partitions) > 0 {
		errs := c.deps.Markers.WriteMarkers(sl.Context(), mk)
		var retry []model.TopicPartition
		for i, err := range errs {
			if !markerDone(err) {
				retry = append(retry, mk.Partitions[i])
				c.opts.Logger.Debug("retry transaction marker", "transactional_id", m.id, "partition", mk.Partitions[i], "err", err)
			}
		}
		mk.Partitions = retry
		if len(retry) == 0 {
			break
		}
		select {
		case <-sl.Context().Done():
			return false
		case <-time.After(c.opts.MarkerRetryBackoff):
		}
	}
	return true
}
