package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/batch"
	"github.com/sluice-io/sluice/internal/controller"
	"github.com/sluice-io/sluice/internal/metadata"
	"github.com/sluice-io/sluice/internal/model"
)

// MetadataFollower keeps a broker that is not a voter of the metadata
// quorum up to date: it fetches the committed entries from a voter's
// CONTROLLER listener (kafka/handler/controller_metadata.go) and applies
// them, in order, into the broker's own Publisher, so its image, and the
// listeners that act on it, are those of the voters. Behind the voter's
// journal it restores the voter's image instead.
type MetadataFollower struct {
	cl  *kgo.Client
	pub *metadata.Publisher
	// Wait is the fetch's max_wait (a long poll); 0 means 500 ms.
	Wait time.Duration
}

// NewMetadataFollower follows the voters at addrs (host:port of their
// CONTROLLER listeners) into pub.
func NewMetadataFollower(addrs []string, pub *metadata.Publisher) (*MetadataFollower, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.RetryTimeout(0))
	if err != nil {
		return nil, err
	}
	return &MetadataFollower{cl: cl, pub: pub}, nil
}

// Close closes the connections.
func (f *MetadataFollower) Close() { f.cl.Close() }

// Run follows until ctx ends; each round applies what one fetch brought.
// A failed round is retried after a short pause (the voter may be
// restarting).
func (f *MetadataFollower) Run(ctx context.Context) error {
	for ctx.Err() == nil {
		if _, err := f.Step(ctx); err != nil && ctx.Err() == nil {
			var apply *applyError
			if errors.As(err, &apply) {
				return err // a committed entry this broker cannot apply: stop, as a voter would
			}
			select {
			case <-ctx.Done():
			case <-time.After(retryPause):
			}
		}
	}
	return ctx.Err()
}

// applyError is an entry or image that would not apply.
type applyError struct{ err error }

func (e *applyError) Error() string { return e.err.Error() }
func (e *applyError) Unwrap() error { return e.err }

// CatchUp applies everything the voters have committed now: fetches that
// do not wait, until one brings nothing. A broker does it before it
// serves, so its replicas start from the cluster's current image. Voters
// that cannot be reached yet (a cluster starting together) are asked
// again every retryPause until ctx ends; an entry that does not apply
// ends it at once.
func (f *MetadataFollower) CatchUp(ctx context.Context) error {
	for {
		before := f.pub.Current().Index
		after, err := f.step(ctx, 0)
		var apply *applyError
		switch {
		case errors.As(err, &apply):
			return err
		case err != nil:
			select {
			case <-ctx.Done():
				return fmt.Errorf("%w (last answer: %w)", ctx.Err(), err)
			case <-time.After(retryPause):
			}
		case after == before:
			return nil
		}
	}
}

// retryPause paces the fetches after a failed one (a voter restarting).
const retryPause = 100 * time.Millisecond

// Step runs one fetch, waiting up to Wait for something new, and applies
// its entries (or the image). It returns the index applied after it.
func (f *MetadataFollower) Step(ctx context.Context) (uint64, error) {
	wait := f.Wait
	if wait <= 0 {
		wait = 500 * time.Millisecond
	}
	return f.step(ctx, wait)
}

func (f *MetadataFollower) step(ctx context.Context, wait time.Duration) (uint64, error) {
	from := f.pub.Current().Index
	req := kmsg.NewPtrFetchRequest()
	req.MaxWaitMillis, req.MinBytes, req.MaxBytes = int32(wait/time.Millisecond), 1, 8<<20
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic, rt.TopicID = model.ClusterMetadataTopic, [16]byte{15: 1}
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.FetchOffset, rp.PartitionMaxBytes = int64(from)+1, 8<<20
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	rctx, cancel := context.WithTimeout(ctx, wait+10*time.Second)
	defer cancel()
	m, err := controller.AskVoters(rctx, f.cl, req)
	if err != nil {
		return from, err
	}
	resp := m.(*kmsg.FetchResponse)
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return from, fmt.Errorf("metadata fetch: %w", err)
	}
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		return from, fmt.Errorf("metadata fetch: malformed answer")
	}
	sp := &resp.Topics[0].Partitions[0]
	if err := kerr.ErrorForCode(sp.ErrorCode); err != nil {
		return from, fmt.Errorf("metadata fetch: %w", err)
	}
	if sp.SnapshotID.EndOffset >= 0 {
		return f.restore(rctx)
	}
	applied := from
	for rest := sp.RecordBatches; len(rest) >= batch.HeaderSize; {
		h := batch.Header(rest)
		n := h.Size()
		if n < batch.HeaderSize || n > len(rest) {
			return applied, fmt.Errorf("metadata fetch: truncated batch")
		}
		idx := uint64(h.BaseOffset())
		err := batch.Records(rest[:n], func(r *batch.Record) error {
			if idx <= applied {
				return nil // already applied
			}
			if err := f.pub.Apply(idx, r.Value); err != nil {
				return &applyError{fmt.Errorf("apply metadata entry %d: %w", idx, err)}
			}
			applied = idx
			return nil
		})
		if err != nil {
			return applied, err
		}
		rest = rest[n:]
	}
	return applied, nil
}

// restore fetches and restores the voter's image.
func (f *MetadataFollower) restore(ctx context.Context) (uint64, error) {
	req := kmsg.NewPtrFetchSnapshotRequest()
	rt := kmsg.NewFetchSnapshotRequestTopic()
	rt.Topic = model.ClusterMetadataTopic
	rt.Partitions = append(rt.Partitions, kmsg.NewFetchSnapshotRequestTopicPartition())
	req.Topics = append(req.Topics, rt)
	m, err := controller.AskVoters(ctx, f.cl, req)
	if err != nil {
		return f.pub.Current().Index, err
	}
	resp := m.(*kmsg.FetchSnapshotResponse)
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		return f.pub.Current().Index, fmt.Errorf("metadata snapshot: malformed answer (error %d)", resp.ErrorCode)
	}
	sp := resp.Topics[0].Partitions[0]
	if err := kerr.ErrorForCode(sp.ErrorCode); err != nil {
		return f.pub.Current().Index, fmt.Errorf("metadata snapshot: %w", err)
	}
	idx := uint64(sp.SnapshotID.EndOffset - 1)
	if err := f.pub.Restore(idx, sp.Bytes); err != nil {
		return f.pub.Current().Index, &applyError{err}
	}
	return idx, nil
}
