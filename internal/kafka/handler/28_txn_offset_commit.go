package handler

// TxnOffsetCommit, versions 0-6.
//
// Commits a group's offsets inside a producer's transaction (KIP-98,
// exactly-once consume-transform-produce): the group coordinator
// (internal/coord/group) writes them as the producer's transactional
// records of __consumer_offsets, pending until the transaction's marker
// commits them (or aborts them); meanwhile OffsetFetch with
// require_stable answers UNSTABLE_OFFSET_COMMIT for those partitions.
// Before that, the group's partition must be in the transaction: v0-4
// check it with the transaction coordinator (AddOffsetsToTxn came first;
// KIP-890 part 1, INVALID_TXN_STATE when not), v5+ add it (transactions
// v2, KIP-890 part 2). A group that does not exist takes generation -1
// commits only (ILLEGAL_GENERATION, GROUP_ID_NOT_FOUND from v6); v3+ carry
// the member id, generation and group.instance.id (KIP-447), checked
// like OffsetCommit's, except that a transactional commit is accepted
// while the group completes a rebalance. PRODUCER_FENCED from v3
// (KIP-588). v6 names topics by id (KIP-516). Unknown topics are
// UNKNOWN_TOPIC_OR_PARTITION, unknown topic ids UNKNOWN_TOPIC_ID.

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/model"
)

func handleTxnOffsetCommit(b *Broker, r *Request) *Reply {
	req := r.Msg.(*kmsg.TxnOffsetCommitRequest)
	return Later(func() kmsg.Response {
		code := b.verifyTxnOffsets(r, req.TransactionalID, req.Group, model.ProducerID(req.ProducerID),
			model.ProducerEpoch(req.ProducerEpoch), req.Version)
		if code != 0 {
			resp := req.ResponseKind().(*kmsg.TxnOffsetCommitResponse)
			for _, t := range req.Topics {
				rt := kmsg.NewTxnOffsetCommitResponseTopic()
				rt.Topic, rt.TopicID = t.Topic, t.TopicID
				for _, p := range t.Partitions {
					rp := kmsg.NewTxnOffsetCommitResponseTopicPartition()
					rp.Partition, rp.ErrorCode = p.Partition, code
					rt.Partitions = append(rt.Partitions, rp)
				}
				resp.Topics = append(resp.Topics, rt)
			}
			return resp
		}
		return b.Groups.TxnOffsetCommit(req)()
	})
}
