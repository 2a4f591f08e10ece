package faults

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Send is one record a producer sent and what it learned about it.
type Send struct {
	Producer   string // which producer client sent it
	Seq        int    // order of the send within its producer (0, 1, 2, ...)
	Value      string // unique across the whole run
	Idempotent bool   // sent by an idempotent producer (enable.idempotence)
	Txn        string // "" or the id of the transaction it was sent in (unique per transaction)
	Acked      bool   // the broker acknowledged it (for a transactional send: the produce was acknowledged)
	Partition  int32  // acknowledged partition, meaningful when Acked
	Offset     int64  // acknowledged offset, meaningful when Acked
}

// TxnOutcome is what the producer learned about one transaction.
type TxnOutcome struct {
	Committed bool // EndTxn(commit) succeeded
	Aborted   bool // the producer aborted it (EndTxn(abort) succeeded or it chose to abort)
	// neither: unknown outcome (the commit call failed or timed out)
}

// Read is one record a consumer received.
type Read struct {
	Consumer      string // which consumer client
	Session       int    // increases each time that consumer's partition assignment changes
	Partition     int32
	Offset        int64
	Value         string
	ReadCommitted bool // the consumer used isolation.level=read_committed
}

// History is a whole run.
type History struct {
	Sends []Send
	Txns  map[string]TxnOutcome // by Send.Txn
	Reads []Read                // what the consumers received during the run, in the order each consumer received them
	// Final is a complete read of every partition from its log start to its end after the faults
	// were healed, read_uncommitted (it includes records of aborted transactions), by partition, in offset order.
	Final map[int32][]Read
	// FinalCommitted is the same complete read with read_committed, by partition, in offset order (may be nil: then the
	// aborted-read check uses only Reads).
	FinalCommitted map[int32][]Read
}

// Report counts what the checker found.
type Report struct {
	Sent, Acked int
	// Failures (each must be 0 in a correct run):
	Lost             int // acknowledged (and, if transactional, committed) but absent from Final
	Moved            int // acknowledged at (partition, offset) but present in Final only at other positions
	Duplicated       int // a value of an idempotent producer present at more than one offset in Final
	Inconsistent     int // one (partition, offset) seen with two different values, or a value nobody sent
	NonMonotonicSend int // an idempotent producer's acknowledged offsets in one partition not increasing with Seq
	NonMonotonicPoll int // within one consumer Session, the offsets one partition delivered not strictly increasing
	AbortedReads     int // a read_committed Read (or FinalCommitted record) whose transaction was Aborted
	CommittedMissing int // a value of a Committed transaction absent from FinalCommitted (only when FinalCommitted != nil)
	// Information (not failures):
	DuplicatedAtLeastOnce int      // values of non-idempotent producers present at more than one offset in Final (allowed)
	Unacked               int      // sends never acknowledged
	UnackedPresent        int      // of those, present in Final (allowed: an indeterminate send that succeeded)
	Unseen                int      // acknowledged, present in Final, but never delivered to any consumer during the run
	Examples              []string // the first 20 failures, human readable, e.g. "lost: p1-17 acknowledged at 0/345"
	// MissingAt are the acknowledged positions (partition, offset) of the first CommittedMissing records, for Trace.
	MissingAt [][2]int64
}

// maxCheckExamples bounds Report.Examples.
const maxCheckExamples = 20

// ckPos is a (partition, offset) position.
type ckPos struct {
	p int32
	o int64
}

func (q ckPos) String() string { return fmt.Sprintf("%d/%d", q.p, q.o) }

// ckSendState is what the checker learned about one sent value from Final, FinalCommitted and Reads.
type ckSendState struct {
	first, second ckPos // the first two distinct positions of the value in Final
	inFinal       bool  // present in Final
	multi         bool  // present in Final at a second, different position
	atAck         bool  // Final holds it at its acknowledged position
	inCommitted   bool  // present in FinalCommitted
	seen          bool  // delivered to some consumer during the run
}

// ckState holds the indexes built over one History. Every lookup is a map access keyed by value or
// by position, so Check is linear in the size of the history.
type ckState struct {
	h       *History
	r       Report
	idx     map[string]int             // value -> index of its (first) Send
	st      []ckSendState              // by Send index
	at      map[int32]map[int64]string // first value observed at each position, by partition then offset
	bad     map[ckPos]struct{}         // positions already counted as Inconsistent
	unknown map[string]bool            // values nobody sent, already counted
	last    map[ckPollKey]int64        // previous offset delivered per consumer session and partition
}

// ckPollKey identifies one partition within one consumer session.
type ckPollKey struct {
	consumer string
	session  int
	p        int32
}

// Check reads a history and reports.
//
// Rules decided here beyond the field comments:
//   - Values are assumed unique; a Send repeating an earlier Value is counted in Sent/Acked/Unacked but its
//     value is checked as the earlier Send.
//   - Moved counts a send once when its value is in Final but not at its acknowledged position. A different
//     value found at an acknowledged position is counted under Inconsistent (once per position), so a send whose
//     position holds another value while its own value is elsewhere counts once under each; if its value is absent
//     from Final it is Lost (or nothing, for a non-committed transaction) and the position is Inconsistent.
//   - Inconsistent takes observations from acknowledgements, Reads, Final and FinalCommitted. A value that matches
//     no Send, wherever it is observed, also counts under Inconsistent, once per distinct value.
//   - NonMonotonicPoll compares each read with the previous read of the same (Consumer, Session, Partition).
//   - A Txn missing from Txns has an unknown outcome.
func Check(h History) Report {
	c := &ckState{
		h:       &h,
		idx:     make(map[string]int, len(h.Sends)),
		st:      make([]ckSendState, len(h.Sends)),
		at:      map[int32]map[int64]string{},
		bad:     map[ckPos]struct{}{},
		unknown: map[string]bool{},
		last:    map[ckPollKey]int64{},
	}
	c.r.Sent = len(h.Sends)
	for i, s := range h.Sends {
		if _, dup := c.idx[s.Value]; !dup {
			c.idx[s.Value] = i
		}
		if s.Acked {
			c.r.Acked++
			c.observe(ckPos{s.Partition, s.Offset}, s.Value, "acknowledgement")
		}
	}
	c.final()
	c.finalCommitted()
	for _, rd := range h.Reads {
		c.read(rd)
	}
	c.perSend()
	c.sendOrder()
	return c.r
}

// fail records an example of a failure, keeping the first maxCheckExamples.
func (c *ckState) fail(format string, args ...any) {
	if len(c.r.Examples) < maxCheckExamples {
		c.r.Examples = append(c.r.Examples, fmt.Sprintf(format, args...))
	}
}

// observe notes that value v was seen at q; a second distinct value makes q Inconsistent.
func (c *ckState) observe(q ckPos, v, src string) {
	m := c.at[q.p]
	if m == nil {
		m = make(map[int64]string, len(c.h.Final[q.p]))
		c.at[q.p] = m
	}
	prev, ok := m[q.o]
	if !ok {
		m[q.o] = v
		return
	}
	if prev == v {
		return
	}
	if _, counted := c.bad[q]; !counted {
		c.bad[q] = struct{}{}
		c.r.Inconsistent++
		c.fail("inconsistent: %s holds %s and %s (from %s)", q, prev, v, src)
	}
}

// known returns the index of the Send of v, counting v as Inconsistent if nobody sent it.
func (c *ckState) known(v string, q ckPos, src string) (int, bool) {
	i, ok := c.idx[v]
	if !ok && !c.unknown[v] {
		c.unknown[v] = true
		c.r.Inconsistent++
		c.fail("unknown value: %q at %s (from %s)", v, q, src)
	}
	return i, ok
}

// aborted reports whether Send i belongs to an aborted transaction.
func (c *ckState) aborted(i int) bool {
	t := c.h.Sends[i].Txn
	return t != "" && c.h.Txns[t].Aborted
}

// final indexes Final, partitions in ascending order so examples are deterministic.
func (c *ckState) final() {
	for _, p := range slices.Sorted(maps.Keys(c.h.Final)) {
		for _, rd := range c.h.Final[p] {
			q := ckPos{p, rd.Offset}
			c.observe(q, rd.Value, "final read")
			i, ok := c.known(rd.Value, q, "final read")
			if !ok {
				continue
			}
			st := &c.st[i]
			switch {
			case !st.inFinal:
				st.inFinal, st.first = true, q
			case !st.multi && st.first != q:
				st.multi, st.second = true, q
			}
			if s := &c.h.Sends[i]; s.Acked && s.Partition == p && s.Offset == rd.Offset {
				st.atAck = true
			}
		}
	}
}

// finalCommitted indexes FinalCommitted and counts the aborted records it holds.
func (c *ckState) finalCommitted() {
	for _, p := range slices.Sorted(maps.Keys(c.h.FinalCommitted)) {
		for _, rd := range c.h.FinalCommitted[p] {
			q := ckPos{p, rd.Offset}
			c.observe(q, rd.Value, "final committed read")
			i, ok := c.known(rd.Value, q, "final committed read")
			if !ok {
				continue
			}
			c.st[i].inCommitted = true
			if c.aborted(i) {
				c.r.AbortedReads++
				c.fail("aborted read: %s of aborted txn %s in final committed read at %s", rd.Value, c.h.Sends[i].Txn, q)
			}
		}
	}
}

// read checks one record delivered to a consumer during the run.
func (c *ckState) read(rd Read) {
	q := ckPos{rd.Partition, rd.Offset}
	c.observe(q, rd.Value, rd.Consumer)
	k := ckPollKey{rd.Consumer, rd.Session, rd.Partition}
	if prev, ok := c.last[k]; ok && rd.Offset <= prev {
		c.r.NonMonotonicPoll++
		c.fail("non-monotonic poll: consumer %s session %d partition %d: offset %d after %d",
			rd.Consumer, rd.Session, rd.Partition, rd.Offset, prev)
	}
	c.last[k] = rd.Offset
	i, ok := c.known(rd.Value, q, rd.Consumer)
	if !ok {
		return
	}
	c.st[i].seen = true
	if rd.ReadCommitted && c.aborted(i) {
		c.r.AbortedReads++
		c.fail("aborted read: %s of aborted txn %s read by %s (read_committed) at %s",
			rd.Value, c.h.Sends[i].Txn, rd.Consumer, q)
	}
}

// perSend applies the per-value rules: Lost, Moved, Duplicated, CommittedMissing and the information counters.
func (c *ckState) perSend() {
	for i := range c.h.Sends {
		s, st := &c.h.Sends[i], &c.st[i]
		if !s.Acked {
			c.r.Unacked++
		}
		if c.idx[s.Value] != i {
			continue // a repeated value, checked as its first Send
		}
		outcome := c.h.Txns[s.Txn]
		ack := ckPos{s.Partition, s.Offset}
		switch {
		case !s.Acked:
			if st.inFinal {
				c.r.UnackedPresent++
			}
		case !st.inFinal:
			if s.Txn == "" || outcome.Committed {
				c.r.Lost++
				c.fail("lost: %s acknowledged at %s", s.Value, ack)
			}
		case !st.atAck:
			c.r.Moved++
			c.fail("moved: %s acknowledged at %s but found at %s", s.Value, ack, st.first)
		}
		if s.Acked && st.inFinal && !st.seen {
			c.r.Unseen++
		}
		if s.Acked && s.Txn != "" && outcome.Committed && c.h.FinalCommitted != nil && !st.inCommitted {
			c.r.CommittedMissing++
			if len(c.r.MissingAt) < maxCheckExamples {
				c.r.MissingAt = append(c.r.MissingAt, [2]int64{int64(s.Partition), s.Offset})
			}
			c.fail("committed missing: %s of committed txn %s acknowledged at %s absent from final committed read",
				s.Value, s.Txn, ack)
		}
		if st.multi {
			if s.Idempotent {
				c.r.Duplicated++
				c.fail("duplicated: %s of idempotent producer %s at %s and %s", s.Value, s.Producer, st.first, st.second)
			} else {
				c.r.DuplicatedAtLeastOnce++
			}
		}
	}
}

// sendOrder counts NonMonotonicSend: per idempotent producer and partition, acknowledged offsets by Seq.
func (c *ckState) sendOrder() {
	type key struct {
		producer string
		p        int32
	}
	groups := map[key][]int{}
	for i, s := range c.h.Sends {
		if s.Idempotent && s.Acked {
			k := key{s.Producer, s.Partition}
			groups[k] = append(groups[k], i)
		}
	}
	keys := slices.SortedFunc(maps.Keys(groups), func(a, b key) int {
		return cmp.Or(cmp.Compare(a.producer, b.producer), cmp.Compare(a.p, b.p))
	})
	sends := c.h.Sends
	for _, k := range keys {
		g := groups[k]
		slices.SortStableFunc(g, func(a, b int) int { return cmp.Compare(sends[a].Seq, sends[b].Seq) })
		for j := 1; j < len(g); j++ {
			a, b := &sends[g[j-1]], &sends[g[j]]
			if b.Offset <= a.Offset {
				c.r.NonMonotonicSend++
				c.fail("non-monotonic send: producer %s partition %d: seq %d (%s) at offset %d after seq %d (%s) at offset %d",
					k.producer, k.p, b.Seq, b.Value, b.Offset, a.Seq, a.Value, a.Offset)
			}
		}
	}
}

// OK reports whether no failure counter is positive.
func (r Report) OK() bool {
	return r.Lost == 0 && r.Moved == 0 && r.Duplicated == 0 && r.Inconsistent == 0 && r.NonMonotonicSend == 0 &&
		r.NonMonotonicPoll == 0 && r.AbortedReads == 0 && r.CommittedMissing == 0
}

// String is a short multi-line summary: the counters, then the examples.
func (r Report) String() string {
	var b strings.Builder
	verdict := "OK"
	if !r.OK() {
		verdict = "FAIL"
	}
	fmt.Fprintf(&b, "%s: sent=%d acked=%d unacked=%d unacked-present=%d unseen=%d duplicated-at-least-once=%d\n",
		verdict, r.Sent, r.Acked, r.Unacked, r.UnackedPresent, r.Unseen, r.DuplicatedAtLeastOnce)
	fmt.Fprintf(&b, "failures: lost=%d moved=%d duplicated=%d inconsistent=%d non-monotonic-send=%d "+
		"non-monotonic-poll=%d aborted-reads=%d committed-missing=%d",
		r.Lost, r.Moved, r.Duplicated, r.Inconsistent, r.NonMonotonicSend, r.NonMonotonicPoll, r.AbortedReads,
		r.CommittedMissing)
	if len(r.Examples) > 0 {
		b.WriteString("\nexamples:")
		for _, e := range r.Examples {
			b.WriteString("\n  " + e)
		}
	}
	return b.String()
}
