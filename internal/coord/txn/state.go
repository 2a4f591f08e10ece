package txn

import (
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// State is a transactional id's state; the values are Kafka's
// TransactionState bytes in __transaction_state records.
type State int8

// The transaction states. Empty: no transaction (after InitProducerId).
// Ongoing: partitions or offsets were added. PrepareCommit, PrepareAbort:
// the outcome is decided and durable; markers are being written.
// CompleteCommit, CompleteAbort: markers written. Dead: the id expired.
// PrepareEpochFence: a fenced producer's transaction is being aborted
// (never written; the record says PrepareAbort with the bumped epoch).
const (
	Empty             = State(kmsg.TransactionStateEmpty)
	Ongoing           = State(kmsg.TransactionStateOngoing)
	PrepareCommit     = State(kmsg.TransactionStatePrepareCommit)
	PrepareAbort      = State(kmsg.TransactionStatePrepareAbort)
	CompleteCommit    = State(kmsg.TransactionStateCompleteCommit)
	CompleteAbort     = State(kmsg.TransactionStateCompleteAbort)
	Dead              = State(kmsg.TransactionStateDead)
	PrepareEpochFence = State(kmsg.TransactionStatePrepareEpochFence)
)

// String is Kafka's name of the state (DescribeTransactions,
// ListTransactions).
func (s State) String() string { return kmsg.TransactionState(s).String() }

// parseState matches a state name case-insensitively.
func parseState(name string) (State, bool) {
	for _, n := range kmsg.TransactionStateStrings() {
		if strings.EqualFold(n, name) {
			st, err := kmsg.ParseTransactionState(n)
			return State(st), err == nil
		}
	}
	return 0, false
}

// preparing reports whether markers are being written.
func (s State) preparing() bool { return s == PrepareCommit || s == PrepareAbort }

// complete reports whether no transaction is open and none is ending.
func (s State) complete() bool { return s == Empty || s == CompleteCommit || s == CompleteAbort }
