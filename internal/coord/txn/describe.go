package txn

import (
	"maps"
	"regexp"
	"slices"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/model"
)

// describe is one transactional id of a DescribeTransactions (KIP-664).
func (s *shard) describe(id string) kmsg.DescribeTransactionsResponseTransactionState {
	d := kmsg.NewDescribeTransactionsResponseTransactionState()
	d.TransactionalID = id
	m := s.txns[id]
	if m == nil {
		d.ErrorCode = codeTxnIDNotFound
		return d
	}
	d.State, d.TimeoutMillis, d.StartTimestamp = m.state.String(), m.timeoutMs, m.startMs
	d.ProducerID, d.ProducerEpoch = int64(m.producerID), int16(m.epoch)
	var last *kmsg.DescribeTransactionsResponseTransactionStateTopic
	for _, tp := range m.sortedPartitions() {
		if last == nil || last.Topic != tp.Topic {
			t := kmsg.NewDescribeTransactionsResponseTransactionStateTopic()
			t.Topic = tp.Topic
			d.Topics = append(d.Topics, t)
			last = &d.Topics[len(d.Topics)-1]
		}
		last.Partitions = append(last.Partitions, tp.Partition)
	}
	return d
}

// listFilter is a ListTransactions' filters (KIP-664; v1 duration,
// KIP-994; v2 transactional id pattern, KIP-1152). Empty filters match
// everything.
type listFilter struct {
	states     []State
	pids       map[model.ProducerID]bool
	durationMs int64 // -1: none
	pattern    *regexp.Regexp
	nowMs      int64
}

func (f *listFilter) match(m *meta) bool {
	switch {
	case len(f.states) > 0 && !slices.Contains(f.states, m.state):
		return false
	case len(f.pids) > 0 && !f.pids[m.producerID]:
		return false
	case f.durationMs >= 0 && f.nowMs-m.startMs < f.durationMs:
		return false
	case f.pattern != nil && !f.pattern.MatchString(m.id):
		return false
	}
	return true
}

// list is this shard's part of a ListTransactions, by id.
func (s *shard) list(f *listFilter) []kmsg.ListTransactionsResponseTransactionState {
	var out []kmsg.ListTransactionsResponseTransactionState
	for _, id := range slices.Sorted(maps.Keys(s.txns)) {
		m := s.txns[id]
		if !f.match(m) {
			continue
		}
		e := kmsg.NewListTransactionsResponseTransactionState()
		e.TransactionalID, e.ProducerID, e.TransactionState = id, int64(m.producerID), m.state.String()
		out = append(out, e)
	}
	return out
}

// compilePattern compiles a ListTransactions v2 transactional id pattern
// (Java regular expression syntax; Go's RE2 accepts the common subset).
func compilePattern(p string) (*regexp.Regexp, error) { return regexp.Compile(p) }
