package handler

import (
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/kafka/wire"
	"github.com/sluice-io/sluice/internal/model"
	"github.com/sluice-io/sluice/internal/replica"
)

// Fetches from follower replicas (Kafka's Partition.fetchRecords with a
// follower's FetchParams). A follower names itself by replica_id (v4-14)
// or replica_state (v15+, with its broker epoch, KIP-903). The leader
// checks, per partition, that it still leads (NOT_LEADER_OR_FOLLOWER) and
// that the fetcher is one of the partition's replicas (UNKNOWN_LEADER_EPOCH
// when the fetch carries a current leader epoch: the follower's metadata
// is newer; NOT_LEADER_OR_FOLLOWER otherwise). With last_fetched_epoch
// (v12+) it checks that the follower's log has not diverged: when the
// leader's log ends that epoch earlier than the fetch offset, or knows
// only an older epoch, the answer is that epoch and its end offset
// (diverging_epoch) with no records, and the follower truncates. Else the
// fetch offset is the follower's log end, which it holds durably: the
// leader records it (it may move the high watermark and complete acks=all
// produces) and answers with batches up to its own log end and the high
// watermark as it was before the update.

// fetcher is who sends a fetch: a consumer (replica -1) or a follower.
type fetcher struct {
	replica     model.NodeID
	brokerEpoch int64 // -1 when not sent
}

// fetcherOf reads the request's replica identity.
func fetcherOf(req *kmsg.FetchRequest) fetcher {
	if req.GetVersion() >= 15 {
		return fetcher{replica: model.NodeID(req.ReplicaState.ID), brokerEpoch: req.ReplicaState.Epoch}
	}
	return fetcher{replica: model.NodeID(req.ReplicaID), brokerEpoch: -1}
}

// followerFetch checks a follower's fetch of part and records its
// progress; false (with sp's error or diverging epoch set) when nothing
// is to be read.
func (b *Broker) followerFetch(part *replica.Partition, rp kmsg.FetchRequestTopicPartition, sp *wire.FetchPartition, from fetcher, end model.Offset) bool {
	off := model.Offset(rp.FetchOffset)
	if off < sp.LogStartOffset {
		sp.ErrorCode = kerr.OffsetOutOfRange.Code
		return false
	}
	// Before the range check: a diverged follower's log may end past ours.
	if last := model.LeaderEpoch(rp.LastFetchedEpoch); last >= 0 {
		epoch, epochEnd := part.Log().EndOffsetForEpoch(last)
		switch {
		case epoch < 0 || epochEnd < 0:
			sp.ErrorCode = kerr.OffsetOutOfRange.Code
			return false
		case epoch < last || epochEnd < off:
			sp.DivergingEpoch = &wire.DivergingEpoch{Epoch: epoch, EndOffset: epochEnd}
			return false
		}
	}
	if off > end {
		sp.ErrorCode = kerr.OffsetOutOfRange.Code
		return false
	}
	err := part.UpdateFollowerFetch(replica.FollowerFetch{Replica: from.replica, FetchOffset: off, BrokerEpoch: from.brokerEpoch}, b.Now().UnixMilli())
	switch {
	case err == nil:
		return true
	case errors.Is(err, replica.ErrUnknownReplica) && rp.CurrentLeaderEpoch >= 0:
		sp.ErrorCode = kerr.UnknownLeaderEpoch.Code
	default:
		sp.ErrorCode = errorCode(err)
	}
	return false
}
