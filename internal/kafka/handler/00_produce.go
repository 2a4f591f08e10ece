package handler

// Produce, versions 3-13.
//
// Each partition's record batch is kept as the bytes received: the replica
// validates the v2 header and CRC, then walks every record as Kafka's
// LogValidator does (decompressing a compressed batch once), assigns
// offsets in place and appends (DESIGN.md §4). A batch refused for some of
// its records (timestamps, keys of a compacted topic) names them in
// record_errors with error_message (v8+, KIP-467). Exactly one batch per partition, as Kafka requires from
// v3. Errors are per partition; the other partitions of the request are
// written. acks=0 sends no response at all, and when a partition failed
// the connection is closed (once the replies before are written), as
// Kafka does, so that the client, which hears of no error, refreshes its
// metadata; acks=1 answers after the
// append; acks=-1 (all) answers once the appended bytes are fsynced, by an
// fsync shared with every other waiting append (group commit), or with
// REQUEST_TIMED_OUT after timeout_ms; on a topic with
// sluice.write.caching=true, acks=all answers after the append, as Kafka
// does (durability on a power cut traded for latency). Other acks values get
// INVALID_REQUIRED_ACKS. v13 names topics by id (KIP-516). Internal
// topics (__consumer_offsets, __transaction_state, __share_group_state)
// get INVALID_TOPIC_EXCEPTION: only their coordinators append.
//
// A batch with a producer id (idempotent producer, KIP-98) is checked
// against the partition's producer state atomically with its append
// (replica/producer_state.go): a retry of one of the producer's last 5
// batches is answered with the original base offset and timestamp, and
// acks=all waits for the original's fsync; a gap or a new epoch not
// starting at 0 is OUT_OF_ORDER_SEQUENCE_NUMBER, an older epoch
// INVALID_PRODUCER_EPOCH, each with a message (v8+).
//
// A transactional batch (KIP-98) opens or continues its producer's
// transaction on the partition. Before it opens one, the partition is
// verified to be in the producer's ongoing transaction with the
// transaction coordinator (KIP-890 part 1, INVALID_TXN_STATE when not);
// from v12 (transactions v2, KIP-890 part 2) the partition is added to the
// transaction instead (txn_verify.go).

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/batch"
	"github.com/sluice-io/sluice/internal/metadata"
	"github.com/sluice-io/sluice/internal/model"
	"github.com/sluice-io/sluice/internal/replica"
)

// durableWait is one acks=all partition waiting for its fsync.
type durableWait struct {
	part  *replica.Partition
	end   model.Offset
	epoch model.LeaderEpoch // the leader epoch read before the append
	resp  *kmsg.ProduceResponseTopicPartition
}

func handleProduce(b *Broker, r *Request) *Reply {
	req := r.Msg.(*kmsg.ProduceRequest)
	resp := kmsg.NewPtrProduceResponse()
	resp.SetVersion(req.GetVersion())
	im := b.Metadata.Current()
	nowMs := b.Now().UnixMilli()
	var waits []durableWait
	var wokenBuf [8]*replica.Partition
	appended := wokenBuf[:0] // to wake once the whole request is appended
	// Sized up front: waits keep pointers into these slices.
	resp.Topics = make([]kmsg.ProduceResponseTopic, len(req.Topics))
	for i := range req.Topics {
		rt, st := &req.Topics[i], &resp.Topics[i]
		*st = kmsg.NewProduceResponseTopic()
		st.Topic, st.TopicID = rt.Topic, rt.TopicID
		st.Partitions = make([]kmsg.ProduceResponseTopicPartition, len(rt.Partitions))
		t, unknown := produceTopic(im, req.GetVersion(), rt)
		for j := range rt.Partitions {
			rp, sp := &rt.Partitions[j], &st.Partitions[j]
			*sp = kmsg.NewProduceResponseTopicPartition()
			sp.Partition = rp.Partition
			sp.BaseOffset, sp.LogAppendTime, sp.LogStartOffset = -1, -1, -1
			switch {
			case req.Acks != 0 && req.Acks != 1 && req.Acks != -1:
				sp.ErrorCode = kerr.InvalidRequiredAcks.Code
			case t == nil:
				sp.ErrorCode = unknown.Code
			default:
				part, end, epoch, ok := b.produceTo(t, req, rp, sp, nowMs)
				if ok {
					appended = append(appended, part)
				}
				// A write-caching topic's batch is committed once the
				// HW passes it: on a leader alone, at once.
				if ok && req.Acks == -1 && !(part.Config().WriteCaching && part.HighWatermark() >= end) {
					waits = append(waits, durableWait{part: part, end: end, epoch: epoch, resp: sp})
				}
			}
		}
	}
	for _, p := range appended {
		p.Wake()
	}
	if req.Acks == 0 {
		return acksZeroReply(b, r, resp)
	}
	if len(waits) == 0 {
		b.addProduceLeaderHints(resp)
		return Now(resp)
	}
	timeout := time.Duration(req.TimeoutMillis) * time.Millisecond
	return Later(func() kmsg.Response {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		waitDurable(ctx, waits)
		b.addProduceLeaderHints(resp)
		return resp
	})
}

// acksZeroReply is nothing for an acks=0 produce that succeeded, and the
// end of the connection for one where a partition failed.
func acksZeroReply(b *Broker, r *Request, resp *kmsg.ProduceResponse) *Reply {
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			if p.ErrorCode != 0 {
				remote := ""
				if r.Conn != nil {
					remote = r.Conn.Remote
				}
				b.Log.Info("closing connection after an acks=0 produce failed", "remote", remote,
					"topic", t.Topic, "partition", p.Partition, "err", kerr.ErrorForCode(p.ErrorCode))
				return CloseConnection()
			}
		}
	}
	return nil
}

// maxParallelFsyncs bounds how many partitions of one produce have their
// fsyncs waited on at once (a blocked fsync holds an OS thread).
const maxParallelFsyncs = 8

// waitDurable waits until every partition's batch is fsynced or ctx ends,
// setting the error of those that fail. The partitions are waited on in
// parallel: each log's group commit runs its own fsync, and concurrent
// fsyncs share the file system's journal commit, so a request waits
// about one fsync rather than one per partition (issue 5). A panic in a
// wait is raised again on the caller's goroutine once every helper
// stopped, so that the request fails as a whole (panic.go).
func waitDurable(ctx context.Context, waits []durableWait) {
	var st struct { // one allocation for both
		next   atomic.Int64
		failed atomic.Pointer[panicked]
	}
	work := func() {
		defer func() {
			if v := recover(); v != nil {
				st.failed.CompareAndSwap(nil, recovered(v))
			}
		}()
		for i := st.next.Add(1) - 1; i < int64(len(waits)); i = st.next.Add(1) - 1 {
			hook("produce-durable")
			w := waits[i]
			if err := w.part.WaitCommittedAt(ctx, w.end, w.epoch); err != nil {
				w.resp.ErrorCode, w.resp.ErrorMessage = errorCode(err), errorMessage(err)
			}
		}
	}
	var wg sync.WaitGroup
	for range min(len(waits), maxParallelFsyncs) - 1 {
		wg.Go(work)
	}
	work()
	wg.Wait()
	if p := st.failed.Load(); p != nil {
		panic(p)
	}
}

// produceTopic finds the topic a produce names, by name or (v13+) by id,
// and the error for a topic that is not there.
func produceTopic(im *metadata.Image, version int16, rt *kmsg.ProduceRequestTopic) (*metadata.Topic, *kerr.Error) {
	if version >= 13 {
		return im.TopicIDs[model.TopicID(rt.TopicID)], kerr.UnknownTopicID
	}
	return im.Topics[rt.Topic], kerr.UnknownTopicOrPartition
}

// produceTo appends one partition's batch and fills its response entry;
// it returns the partition, the offset after the batch and the leader
// epoch read before the append (the acks=all wait checks it).
func (b *Broker) produceTo(t *metadata.Topic, req *kmsg.ProduceRequest, rp *kmsg.ProduceRequestTopicPartition, sp *kmsg.ProduceResponseTopicPartition, nowMs int64) (*replica.Partition, model.Offset, model.LeaderEpoch, bool) {
	version := req.GetVersion()
	if rp.Partition < 0 || int(rp.Partition) >= len(t.Partitions) {
		sp.ErrorCode = kerr.UnknownTopicOrPartition.Code
		return nil, 0, 0, false
	}
	if model.IsInternalTopic(t.Name) {
		// Only the coordinators write there (ReplicaManager's
		// internalTopicsAllowed): one foreign record would be replayed
		// into their state.
		sp.ErrorCode = kerr.InvalidTopicException.Code
		sp.ErrorMessage = kmsg.StringPtr("Cannot append to internal topic " + t.Name)
		return nil, 0, 0, false
	}
	part := b.Replicas.Get(model.TopicPartition{Topic: t.Name, Partition: rp.Partition})
	if part == nil || t.Partitions[rp.Partition].Leader != b.Settings.NodeID {
		sp.ErrorCode = kerr.NotLeaderForPartition.Code
		return nil, 0, 0, false
	}
	if len(rp.Records) < batch.HeaderSize {
		sp.ErrorCode = kerr.CorruptMessage.Code
		return nil, 0, 0, false
	}
	if batch.Header(rp.Records).Codec() == batch.CodecZstd && version < 7 {
		sp.ErrorCode = kerr.UnsupportedCompressionType.Code // KIP-110
		return nil, 0, 0, false
	}
	epoch := part.LeaderEpoch() // before the append: the acks=all wait checks it
	base, appendTime, err := b.appendBatch(part, req.TransactionID, version, rp.Records, req.Acks == -1, nowMs)
	if err != nil {
		sp.ErrorCode, sp.ErrorMessage = errorCode(err), errorMessage(err)
		sp.ErrorRecords = recordErrors(err)
		if sp.ErrorCode == kerr.KafkaStorageError.Code {
			b.Log.Error("append", "partition", part.TP, "err", err)
		}
		return nil, 0, 0, false
	}
	sp.BaseOffset, sp.LogAppendTime = int64(base), appendTime
	sp.LogStartOffset = int64(part.LogStartOffset())
	return part, base + model.Offset(batch.Header(rp.Records).LastOffsetDelta()) + 1, epoch, true
}
