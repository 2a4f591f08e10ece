package txn

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/coord/group"
	"github.com/sluice-io/sluice/internal/coord/runtime"
	"github.com/sluice-io/sluice/internal/metadata"
	"github.com/sluice-io/sluice/internal/model"
)

// The handler-facing API: each method answers one request, blocking until
// the state behind the answer is durable (call it off the connection's
// reader goroutine). Transactional ids route to their shard; a broker
// that does not coordinate one answers NOT_COORDINATOR.

// runWithPID runs op on the shard of id; when op asks for a fresh
// producer id it gets one and runs again.
func (c *Coordinator) runWithPID(ctx context.Context, id string, op func(*shard, *runtime.Writer, model.ProducerID) opResult) opResult {
	newPID := noProducerID
	for {
		var res opResult
		if code := c.run(id, func(s *shard, w *runtime.Writer) { res = op(s, w, newPID) }); code != 0 {
			return opResult{code: code}
		}
		if !res.needPID || newPID >= 0 {
			return res
		}
		pid, err := c.deps.ProducerIDs.Next(ctx)
		if err != nil {
			c.opts.Logger.Warn("producer id for a transactional id", "transactional_id", id, "err", err)
			return opResult{code: codeLoadInProgress} // no block of ids yet: retriable
		}
		newPID = pid
	}
}

// await waits, within CompletionWait, for a transaction's markers; it
// reports whether they were written.
func (c *Coordinator) await(ctx context.Context, ch chan struct{}) bool {
	if ch == nil {
		return false
	}
	t := time.NewTimer(c.opts.CompletionWait)
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	return false
}

// InitProducerID answers an InitProducerId for a transactional id
// (v0-5). A timeout above transaction.max.timeout.ms, or not positive, is
// INVALID_TRANSACTION_TIMEOUT. When an ongoing transaction must be aborted
// first, the answer waits for its markers and then bumps the epoch,
// sparing the client the CONCURRENT_TRANSACTIONS retry Kafka makes it do
// (it gets CONCURRENT_TRANSACTIONS only if the abort is slow).
func (c *Coordinator) InitProducerID(ctx context.Context, req *kmsg.InitProducerIDRequest) *kmsg.InitProducerIDResponse {
	resp := req.ResponseKind().(*kmsg.InitProducerIDResponse)
	resp.ProducerID, resp.ProducerEpoch = -1, -1
	if req.TransactionTimeoutMillis <= 0 || time.Duration(req.TransactionTimeoutMillis)*time.Millisecond > c.maxTimeout() {
		resp.ErrorCode = codeInvalidTxnTimeout
		return resp
	}
	r := initReq{id: *req.TransactionalID, timeoutMs: req.TransactionTimeoutMillis,
		pid: model.ProducerID(req.ProducerID), epoch: model.ProducerEpoch(req.ProducerEpoch)}
	op := func(s *shard, w *runtime.Writer, pid model.ProducerID) opResult { return s.initProducerID(w, r, pid) }
	res := c.runWithPID(ctx, r.id, op)
	for range 2 {
		if res.code != codeConcurrentTransactions || !c.await(ctx, res.wait) {
			break
		}
		res = c.runWithPID(ctx, r.id, op)
	}
	resp.ErrorCode = fencedCode(res.code, req.Version >= 4)
	if res.code == 0 {
		resp.ProducerID, resp.ProducerEpoch = int64(res.pid), int16(res.epoch)
	}
	return resp
}

func (c *Coordinator) maxTimeout() time.Duration {
	if c == nil {
		return DefaultOptions().MaxTimeout
	}
	return c.opts.MaxTimeout
}

// EndTxn answers an EndTxn (v0-5; v5 is transactions v2, KIP-890 part 2:
// the epoch bumps and the answer carries the producer id and epoch to use
// next). The answer waits, within CompletionWait, for the markers, so the
// client's next transaction does not meet CONCURRENT_TRANSACTIONS; Kafka
// answers once PrepareCommit or PrepareAbort is durable, which already
// decides the outcome.
func (c *Coordinator) EndTxn(ctx context.Context, req *kmsg.EndTxnRequest) *kmsg.EndTxnResponse {
	resp := req.ResponseKind().(*kmsg.EndTxnResponse)
	resp.ProducerID, resp.ProducerEpoch = -1, -1
	r := endReq{id: req.TransactionalID, pid: model.ProducerID(req.ProducerID), epoch: model.ProducerEpoch(req.ProducerEpoch),
		commit: req.Commit, tv2: req.Version >= 5}
	res := c.runWithPID(ctx, r.id, func(s *shard, w *runtime.Writer, pid model.ProducerID) opResult { return s.endTxn(w, r, pid) })
	if res.code == 0 || res.code == codeConcurrentTransactions {
		c.await(ctx, res.wait)
	}
	resp.ErrorCode = fencedCode(res.code, req.Version >= 2)
	if res.code == 0 && r.tv2 {
		resp.ProducerID, resp.ProducerEpoch = int64(res.pid), int16(res.epoch)
	}
	return resp
}

// AddPartitions adds partitions to a producer's transaction, or with
// verifyOnly checks that they are in it; the codes are per partition, in
// order. A transactional id coordinated by another broker is asked there
// (remote.go).
func (c *Coordinator) AddPartitions(id string, pid model.ProducerID, epoch model.ProducerEpoch, tps []model.TopicPartition, verifyOnly bool) []int16 {
	r := addReq{id: id, pid: pid, epoch: epoch, partitions: tps, verifyOnly: verifyOnly}
	var code int16
	var per []int16
	if rc := c.run(id, func(s *shard, w *runtime.Writer) { code, per = s.addPartitions(w, r) }); rc != 0 {
		if rc == codeNotCoordinator && c != nil {
			return c.addPartitionsRemote(id, pid, epoch, tps, verifyOnly) // another broker coordinates id
		}
		code = rc
	}
	if per == nil {
		per = make([]int16, len(tps))
		for i := range per {
			per[i] = code
		}
	}
	return per
}

// AddPartitionsToTxn answers an AddPartitionsToTxn: v0-3 from a producer,
// v4+ batched from a partition leader (KIP-890), where verify_only asks
// whether the partitions are in the ongoing transaction. Unknown
// partitions get UNKNOWN_TOPIC_OR_PARTITION and the others of their
// transaction OPERATION_NOT_ATTEMPTED, as Kafka answers.
func (c *Coordinator) AddPartitionsToTxn(req *kmsg.AddPartitionsToTxnRequest) *kmsg.AddPartitionsToTxnResponse {
	resp := req.ResponseKind().(*kmsg.AddPartitionsToTxnResponse)
	im := c.image()
	if req.Version < 4 {
		topics := make([]addTopic, len(req.Topics))
		for i, t := range req.Topics {
			topics[i] = addTopic{t.Topic, t.Partitions}
		}
		codes := c.addTopics(im, req.TransactionalID, model.ProducerID(req.ProducerID), model.ProducerEpoch(req.ProducerEpoch), topics, false, req.Version >= 2)
		for i, t := range topics {
			rt := kmsg.NewAddPartitionsToTxnResponseTopic()
			rt.Topic = t.topic
			for j, p := range t.partitions {
				rp := kmsg.NewAddPartitionsToTxnResponseTopicPartition()
				rp.Partition, rp.ErrorCode = p, codes[i][j]
				rt.Partitions = append(rt.Partitions, rp)
			}
			resp.Topics = append(resp.Topics, rt)
		}
		return resp
	}
	for _, tx := range req.Transactions {
		topics := make([]addTopic, len(tx.Topics))
		for i, t := range tx.Topics {
			topics[i] = addTopic{t.Topic, t.Partitions}
		}
		codes := c.addTopics(im, tx.TransactionalID, model.ProducerID(tx.ProducerID), model.ProducerEpoch(tx.ProducerEpoch), topics, tx.VerifyOnly, true)
		rtx := kmsg.NewAddPartitionsToTxnResponseTransaction()
		rtx.TransactionalID = tx.TransactionalID
		for i, t := range topics {
			rt := kmsg.NewAddPartitionsToTxnResponseTransactionTopic()
			rt.Topic = t.topic
			for j, p := range t.partitions {
				rp := kmsg.NewAddPartitionsToTxnResponseTransactionTopicPartition()
				rp.Partition, rp.ErrorCode = p, codes[i][j]
				rt.Partitions = append(rt.Partitions, rp)
			}
			rtx.Topics = append(rtx.Topics, rt)
		}
		resp.Transactions = append(resp.Transactions, rtx)
	}
	return resp
}

// addTopic is one topic of an AddPartitionsToTxn.
type addTopic struct {
	topic      string
	partitions []int32
}

// addTopics validates and adds one transaction's partitions; the codes
// mirror topics.
func (c *Coordinator) addTopics(im *metadata.Image, id string, pid model.ProducerID, epoch model.ProducerEpoch, topics []addTopic, verifyOnly, fencedKnown bool) [][]int16 {
	codes := make([][]int16, len(topics))
	var tps []model.TopicPartition
	unknown := false
	for i, t := range topics {
		codes[i] = make([]int16, len(t.partitions))
		mt := im.Topics[t.topic]
		for j, p := range t.partitions {
			if mt == nil || p < 0 || int(p) >= len(mt.Partitions) {
				codes[i][j], unknown = codeUnknownTopicOrPartition, true
				continue
			}
			tps = append(tps, model.TopicPartition{Topic: t.topic, Partition: p})
		}
	}
	fill := func(next func() int16) {
		for i := range codes {
			for j := range codes[i] {
				if codes[i][j] == 0 {
					codes[i][j] = next()
				}
			}
		}
	}
	switch {
	case unknown:
		fill(func() int16 { return codeOperationNotAttempted })
	case id == "":
		fill(func() int16 { return codeInvalidRequest })
	default:
		per := c.AddPartitions(id, pid, epoch, tps, verifyOnly)
		k := 0
		fill(func() int16 { k++; return fencedCode(per[k-1], fencedKnown) })
	}
	return codes
}

// AddOffsetsToTxn answers an AddOffsetsToTxn: the group's
// __consumer_offsets partition joins the transaction (created first, like
// FindCoordinator would, if the topic does not exist yet).
func (c *Coordinator) AddOffsetsToTxn(ctx context.Context, req *kmsg.AddOffsetsToTxnRequest) *kmsg.AddOffsetsToTxnResponse {
	resp := req.ResponseKind().(*kmsg.AddOffsetsToTxnResponse)
	tp, code := c.OffsetsPartition(ctx, req.Group)
	if code == 0 {
		code = c.AddPartitions(req.TransactionalID, model.ProducerID(req.ProducerID), model.ProducerEpoch(req.ProducerEpoch),
			[]model.TopicPartition{tp}, false)[0]
	}
	resp.ErrorCode = fencedCode(code, req.Version >= 2)
	return resp
}

// OffsetsPartition is the __consumer_offsets partition of a group.
func (c *Coordinator) OffsetsPartition(ctx context.Context, groupID string) (model.TopicPartition, int16) {
	if c == nil {
		return model.TopicPartition{}, codeCoordinatorNotAvailable
	}
	t := c.image().Topics[group.OffsetsTopic]
	if t == nil {
		if _, code, _ := c.deps.Groups.FindCoordinator(ctx, groupID); code != 0 {
			return model.TopicPartition{}, code
		}
		if t = c.image().Topics[group.OffsetsTopic]; t == nil {
			return model.TopicPartition{}, codeCoordinatorNotAvailable
		}
	}
	return model.TopicPartition{Topic: group.OffsetsTopic, Partition: group.Partition(groupID, int32(len(t.Partitions)))}, 0
}

// DescribeTransactions answers a DescribeTransactions (KIP-664).
func (c *Coordinator) DescribeTransactions(req *kmsg.DescribeTransactionsRequest) *kmsg.DescribeTransactionsResponse {
	resp := req.ResponseKind().(*kmsg.DescribeTransactionsResponse)
	for _, id := range req.TransactionalIDs {
		d := kmsg.NewDescribeTransactionsResponseTransactionState()
		d.TransactionalID = id
		code := c.run(id, func(s *shard, _ *runtime.Writer) { d = s.describe(id) })
		if code != 0 {
			d = kmsg.NewDescribeTransactionsResponseTransactionState()
			d.TransactionalID, d.ErrorCode = id, code
		}
		resp.TransactionStates = append(resp.TransactionStates, d)
	}
	return resp
}

// ListTransactions answers a ListTransactions with the transactional ids
// of every shard this broker leads (COORDINATOR_LOAD_IN_PROGRESS while
// one loads). Unknown state names are echoed in unknown_state_filters.
func (c *Coordinator) ListTransactions(req *kmsg.ListTransactionsRequest) *kmsg.ListTransactionsResponse {
	resp := req.ResponseKind().(*kmsg.ListTransactionsResponse)
	if c == nil {
		resp.ErrorCode = codeCoordinatorNotAvailable
		return resp
	}
	f := &listFilter{durationMs: -1, nowMs: c.opts.Clock.Now().UnixMilli(), pids: map[model.ProducerID]bool{}}
	if req.Version >= 1 {
		f.durationMs = req.DurationFilterMillis
	}
	for _, name := range req.StateFilters {
		if st, ok := parseState(name); ok {
			f.states = append(f.states, st)
		} else {
			resp.UnknownStateFilters = append(resp.UnknownStateFilters, name)
		}
	}
	if len(req.StateFilters) > 0 && len(f.states) == 0 {
		return resp // only unknown states: nothing matches
	}
	for _, p := range req.ProducerIDFilters {
		f.pids[model.ProducerID(p)] = true
	}
	if req.Version >= 2 && req.TransactionalIDPattern != nil && *req.TransactionalIDPattern != "" {
		re, err := compilePattern(*req.TransactionalIDPattern)
		if err != nil {
			resp.ErrorCode = codeInvalidRegex
			return resp
		}
		f.pattern = re
	}
	slots, loading := c.slots.Loaded()
	if loading {
		resp.ErrorCode = codeLoadInProgress
		return resp
	}
	for _, sl := range slots {
		var part []kmsg.ListTransactionsResponseTransactionState
		if err := sl.Run(func(s *shard, _ *runtime.Writer) { part = s.list(f) }); err != nil {
			resp.ErrorCode, resp.TransactionStates = runtimeCode(err), nil
			return resp
		}
		resp.TransactionStates = append(resp.TransactionStates, part...)
	}
	return resp
}

func (c *Coordinator) image() *metadata.Image {
	if c == nil {
		return metadata.Empty()
	}
	return c.deps.Metadata.Current()
}
