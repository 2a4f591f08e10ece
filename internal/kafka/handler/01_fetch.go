package handler

// Fetch, versions 4-18.
//
// Reads whole record batches from each partition's log, as stored. Limits:
// partition_max_bytes per partition and max_bytes overall (at most the
// broker's fetch.max.bytes), except that the
// first batch of the first partition with data is always returned, even
// when larger (KIP-74), so a consumer can never stall. When less than
// min_bytes is available the fetch long-polls up to max_wait_ms, woken by
// appends to any partition it reads (no busy loop). Every partition
// answers with its high watermark, last stable offset and log start
// offset. isolation_level 1 (read_committed, KIP-98) reads only below the
// last stable offset (the first offset of the oldest open transaction)
// and lists, per partition, the aborted transactions (producer id, first
// offset) that overlap the returned batches, from the transaction index,
// so the consumer drops their records; markers wake read_committed
// long polls. read_uncommitted reads up to the high watermark; an offset
// between the high watermark and the log end reads nothing (it is not
// committed yet); one outside [log start, log end] gets
// OFFSET_OUT_OF_RANGE. Only the leader serves fetches; another broker's
// replica answers NOT_LEADER_OR_FOLLOWER. current_leader_epoch (v9+,
// KIP-320) is checked: older is FENCED_LEADER_EPOCH, newer
// UNKNOWN_LEADER_EPOCH. A fetch from a follower replica (replica_id, or
// replica_state from v15) reads up to the log end and reports the
// follower's progress to the partition (01_fetch_replica.go). Topics are
// named by id from v13 (KIP-516). Fetch sessions (v7+, KIP-227) are kept
// by package fetchsession: an incremental fetch reads every partition of
// its session and answers only those with something new.

import (
	"slices"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/kafka/fetchsession"
	"github.com/sluice-io/sluice/internal/kafka/wire"
	"github.com/sluice-io/sluice/internal/metadata"
	"github.com/sluice-io/sluice/internal/model"
	"github.com/sluice-io/sluice/internal/replica"
)

func handleFetch(b *Broker, r *Request) *Reply {
	req := r.Msg.(*kmsg.FetchRequest)
	flexible := req.IsFlexible()
	session, code := b.FetchSessions.Begin(req)
	if code != 0 {
		return NowBody(encodeFetch(req, &wire.FetchResponse{ErrorCode: code}), flexible)
	}
	sc := fetchScratchPool.Get().(*fetchScratch)
	sc.session = session
	if n := b.fetchOnce(req, sc); n >= int(req.MinBytes) || req.MaxWaitMillis <= 0 || len(sc.parts) == 0 {
		return NowBody(sc.encode(req), flexible)
	}
	return b.waitFetch(r.Ctx, req, sc)
}

// fetchScratch is what one fetch request rebuilds on every read: the
// response (its slices reused) and the partitions read without error.
// Pooled: a steady stream of fetches allocates none of it.
type fetchScratch struct {
	resp    wire.FetchResponse
	parts   []*replica.Partition
	session *fetchsession.Fetch // the fetch's session, nil for none
}

var fetchScratchPool = sync.Pool{New: func() any { return new(fetchScratch) }}

// encode encodes the response and returns sc to the pool.
func (sc *fetchScratch) encode(req *kmsg.FetchRequest) *wire.Body {
	sc.session.Finish(&sc.resp)
	sc.session = nil
	body := encodeFetch(req, &sc.resp)
	sc.resp.SessionID = 0
	clear(sc.parts)
	sc.parts = sc.parts[:0]
	for i := range sc.resp.Topics {
		clear(sc.resp.Topics[i].Partitions) // file and partition references
	}
	fetchScratchPool.Put(sc)
	return body
}

// encodeFetch encodes resp at the request's version into a pooled body,
// which the connection releases once written. The structures are built
// by this package and always encode; a failure is a broken invariant.
func encodeFetch(req *kmsg.FetchRequest, resp *wire.FetchResponse) *wire.Body {
	body := wire.NewBody()
	if err := wire.EncodeFetch(req.GetVersion(), resp, body); err != nil {
		panic("encode fetch response: " + err.Error())
	}
	return body
}

// fetchOnce fills sc with a response from what is readable now and the
// partitions read without error (those a long poll waits on). It returns
// the record bytes gathered.
func (b *Broker) fetchOnce(req *kmsg.FetchRequest, sc *fetchScratch) int {
	resp := &sc.resp
	resp.Topics = slices.Grow(resp.Topics[:0], len(req.Topics))[:len(req.Topics)]
	sc.parts = sc.parts[:0]
	resp.NodeEndpoints = resp.NodeEndpoints[:0]
	im := b.Metadata.Current()
	budget := req.MaxBytes
	if budget <= 0 {
		budget = 1<<31 - 1
	}
	if m := b.Settings.FetchMaxBytes; m > 0 && budget > m {
		budget = m // Kafka: min(request max_bytes, fetch.max.bytes)
	}
	total := 0
	from := fetcherOf(req)
	for i, rt := range req.Topics {
		st := &resp.Topics[i]
		st.Topic, st.TopicID = rt.Topic, model.TopicID(rt.TopicID)
		st.Partitions = slices.Grow(st.Partitions[:0], len(rt.Partitions))[:len(rt.Partitions)]
		t := fetchTopic(im, req.GetVersion(), rt)
		for j, rp := range rt.Partitions {
			sp := &st.Partitions[j]
			*sp = wire.NewFetchPartition(rp.Partition, 0)
			part, end := b.fetchPartition(t, req.GetVersion(), rp, sp, from)
			if part == nil {
				b.fetchLeaderHint(im, req.GetVersion(), t, sp, resp)
				continue
			}
			lim := readLimits{upTo: sp.HighWatermark, end: end}
			switch {
			case from.replica >= 0:
				lim.upTo = end
			case req.IsolationLevel == 1:
				lim.upTo, lim.committed = sp.LastStableOffset, true
			}
			n := readInto(part, model.Offset(rp.FetchOffset), min(rp.PartitionMaxBytes, budget), total == 0, lim, sp)
			total += n
			budget -= int32(n)
			if sp.ErrorCode == 0 {
				sc.parts = append(sc.parts, part)
			}
		}
	}
	return total
}

func fetchTopic(im *metadata.Image, version int16, rt kmsg.FetchRequestTopic) *metadata.Topic {
	if version >= 13 {
		return im.TopicIDs[model.TopicID(rt.TopicID)]
	}
	return im.Topics[rt.Topic]
}

// fetchPartition resolves one partition, setting the error and offsets
// fields of sp; nil when there is nothing to read. It returns the log
// end offset as of the snapshot.
func (b *Broker) fetchPartition(t *metadata.Topic, version int16, rp kmsg.FetchRequestTopicPartition, sp *wire.FetchPartition, from fetcher) (*replica.Partition, model.Offset) {
	switch {
	case t == nil && version >= 13:
		sp.ErrorCode = kerr.UnknownTopicID.Code
		return nil, 0
	case t == nil || rp.Partition < 0 || int(rp.Partition) >= len(t.Partitions):
		sp.ErrorCode = kerr.UnknownTopicOrPartition.Code
		return nil, 0
	}
	part := b.Replicas.Get(model.TopicPartition{Topic: t.Name, Partition: rp.Partition})
	if part == nil {
		sp.ErrorCode = kerr.NotLeaderForPartition.Code
		return nil, 0
	}
	if e := rp.CurrentLeaderEpoch; e >= 0 {
		switch cur := int32(part.LeaderEpoch()); {
		case e < cur:
			sp.ErrorCode = kerr.FencedLeaderEpoch.Code
			return nil, 0
		case e > cur:
			sp.ErrorCode = kerr.UnknownLeaderEpoch.Code
			return nil, 0
		}
	}
	if part.Role() != replica.RoleLeader {
		sp.ErrorCode = kerr.NotLeaderForPartition.Code
		return nil, 0
	}
	// One snapshot: the aborted transactions below this LSO are indexed,
	// and the log end is at least the high watermark.
	hw, lso := part.ReadView()
	sp.HighWatermark, sp.LastStableOffset = hw, lso
	sp.LogStartOffset = part.LogStartOffset()
	end := part.LogEndOffset()
	if from.replica >= 0 && !b.followerFetch(part, rp, sp, from, end) {
		return nil, 0
	}
	return part, end
}

// noAborted is a non-nil empty list (appending to it allocates anew).
var noAborted = []wire.AbortedTransaction{}

// readLimits bound a fetch's read: it returns batches below upTo (the
// high watermark, the last stable offset for read_committed, the log end
// for a follower); offsets up to end (the log end) are in range.
type readLimits struct {
	upTo, end model.Offset
	committed bool // read_committed: list the aborted transactions
}

// readInto points sp's records at the partition's batches from the given
// offset (a file section, sent later with sendfile) and returns their
// size. read_committed reads below the last stable offset and fills the
// aborted transactions (non-nil: the field is null only for
// read_uncommitted).
func readInto(part *replica.Partition, from model.Offset, maxBytes int32, minOne bool, lim readLimits, sp *wire.FetchPartition) int {
	if lim.committed {
		sp.AbortedTransactions = noAborted
	}
	if from < sp.LogStartOffset || from > lim.end {
		sp.ErrorCode = kerr.OffsetOutOfRange.Code
		return 0
	}
	upTo := lim.upTo
	if from >= upTo {
		// At the HW, past it (not committed yet) or, read_committed, at
		// the LSO: wait for more.
		return 0
	}
	chunk, err := part.ReadLog(from, upTo, maxBytes, minOne)
	if err != nil {
		sp.ErrorCode = errorCode(err)
		return 0
	}
	sp.Records = wire.FileSection{File: chunk.File, Pos: chunk.Pos, Len: chunk.Size}
	if lim.committed && !chunk.Empty() {
		aborted, err := part.AbortedTxns(chunk.FirstOffset, upTo)
		if err != nil {
			sp.ErrorCode, sp.Records = errorCode(err), wire.FileSection{}
			return 0
		}
		for _, a := range aborted {
			sp.AbortedTransactions = append(sp.AbortedTransactions, wire.AbortedTransaction{ProducerID: a.ProducerID, FirstOffset: a.FirstOffset})
		}
	}
	return int(chunk.Size)
}
