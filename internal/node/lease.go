package node

import (
	"cmp"
	"time"
)

// The controller lease (docs/plans/replication.md, R6; beyond Kafka): a
// broker knows the controller heard from it when the controller answers
// a heartbeat, so it was not fenced for missing heartbeats until a
// session timeout after that heartbeat was sent. A leader whose ISR is
// itself alone holds its high watermark while the lease is not held
// (replica.Partition.SetLease): after a pause (SIGSTOP, a stalled VM) it
// may have been fenced and replaced without knowing, and would otherwise
// acknowledge acks=all writes its successor lacks until the metadata
// tells it. The lease is renewed by the next answered heartbeat.
// Monotonic time: durations since n.born.

// renewLease records that the controller answered a heartbeat sent at
// sent (since n.born).
func (n *Node) renewLease(sent time.Duration) {
	for {
		old := n.leaseSent.Load()
		if int64(sent) <= old || n.leaseSent.CompareAndSwap(old, int64(sent)) {
			return
		}
	}
}

// leaseHeld reports whether the last answered heartbeat was sent less
// than a session timeout ago.
func (n *Node) leaseHeld() bool {
	session := cmp.Or(n.opts.SessionTimeout, 9*time.Second)
	return time.Since(n.born)-time.Duration(n.leaseSent.Load()) < session
}
