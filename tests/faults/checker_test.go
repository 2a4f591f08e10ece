package faults

import (
	"reflect"
	"strings"
	"testing"
)

// ckAck is an acknowledged send of an idempotent producer.
func ckAck(prod string, seq int, v string, p int32, o int64) Send {
	return Send{Producer: prod, Seq: seq, Value: v, Idempotent: true, Acked: true, Partition: p, Offset: o}
}

// ckPlain makes a send non-idempotent.
func ckPlain(s Send) Send { s.Idempotent = false; return s }

// ckTxn puts a send in transaction t.
func ckTxn(s Send, t string) Send { s.Txn = t; return s }

// ckRead is a record delivered to a read_uncommitted consumer.
func ckRead(consumer string, session int, p int32, o int64, v string) Read {
	return Read{Consumer: consumer, Session: session, Partition: p, Offset: o, Value: v}
}

// ckReadC is a record delivered to a read_committed consumer.
func ckReadC(consumer string, session int, p int32, o int64, v string) Read {
	r := ckRead(consumer, session, p, o, v)
	r.ReadCommitted = true
	return r
}

// ckLog groups records by partition, as Final and FinalCommitted are.
func ckLog(recs ...Read) map[int32][]Read {
	m := map[int32][]Read{}
	for _, r := range recs {
		m[r.Partition] = append(m[r.Partition], r)
	}
	return m
}

// ckAt is a record of a final read.
func ckAt(p int32, o int64, v string) Read { return Read{Partition: p, Offset: o, Value: v} }

func TestCheck(t *testing.T) {
	three := []Send{ckAck("p1", 0, "a", 0, 0), ckAck("p1", 1, "b", 0, 1), ckAck("p1", 2, "c", 1, 0)}
	threeFinal := ckLog(ckAt(0, 0, "a"), ckAt(0, 1, "b"), ckAt(1, 0, "c"))
	threeReads := []Read{ckRead("c1", 0, 0, 0, "a"), ckRead("c1", 0, 1, 0, "c"), ckRead("c1", 0, 0, 1, "b")}
	tests := []struct {
		name    string
		h       History
		want    Report // Examples are checked through example
		example string // substring of some example; "" when the report must be OK
	}{
		{
			name: "clean",
			h:    History{Sends: three, Reads: threeReads, Final: threeFinal, FinalCommitted: threeFinal},
			want: Report{Sent: 3, Acked: 3},
		},
		{
			name: "lost acked record",
			h: History{Sends: three, Reads: threeReads,
				Final: ckLog(ckAt(0, 0, "a"), ckAt(1, 0, "c"))},
			want:    Report{Sent: 3, Acked: 3, Lost: 1},
			example: "lost: b acknowledged at 0/1",
		},
		{
			name: "aborted txn read by read_committed consumer",
			h: History{
				Sends: []Send{ckTxn(ckAck("t1", 0, "a", 0, 0), "x"), ckTxn(ckAck("t1", 1, "b", 0, 2), "y")},
				Txns:  map[string]TxnOutcome{"x": {Aborted: true}, "y": {Committed: true}},
				// the read_uncommitted consumer may see it; the read_committed one must not.
				Reads:          []Read{ckRead("c1", 0, 0, 0, "a"), ckReadC("c2", 0, 0, 0, "a"), ckReadC("c2", 0, 0, 2, "b")},
				Final:          ckLog(ckAt(0, 0, "a"), ckAt(0, 2, "b")),
				FinalCommitted: ckLog(ckAt(0, 2, "b")),
			},
			want:    Report{Sent: 2, Acked: 2, AbortedReads: 1},
			example: "aborted read: a of aborted txn x read by c2",
		},
		{
			name: "aborted txn in final committed read",
			h: History{
				Sends:          []Send{ckTxn(ckAck("t1", 0, "a", 0, 0), "x")},
				Txns:           map[string]TxnOutcome{"x": {Aborted: true}},
				Reads:          []Read{ckRead("c1", 0, 0, 0, "a")},
				Final:          ckLog(ckAt(0, 0, "a")),
				FinalCommitted: ckLog(ckAt(0, 0, "a")),
			},
			want:    Report{Sent: 1, Acked: 1, AbortedReads: 1},
			example: "in final committed read at 0/0",
		},
		{
			name: "aborted txn record absent is not lost",
			h: History{
				Sends: []Send{ckTxn(ckAck("t1", 0, "a", 0, 0), "x")},
				Txns:  map[string]TxnOutcome{"x": {Aborted: true}},
				Final: ckLog(),
			},
			want: Report{Sent: 1, Acked: 1},
		},
		{
			name: "committed txn record missing from final committed read",
			h: History{
				Sends: []Send{ckTxn(ckAck("t1", 0, "a", 0, 0), "x"), ckTxn(ckAck("t1", 1, "b", 0, 1), "x")},
				Txns:  map[string]TxnOutcome{"x": {Committed: true}},
				Reads: []Read{ckReadC("c1", 0, 0, 0, "a"), ckReadC("c1", 0, 0, 1, "b")},
				Final: ckLog(ckAt(0, 0, "a"), ckAt(0, 1, "b")), FinalCommitted: ckLog(ckAt(0, 0, "a")),
			},
			want:    Report{Sent: 2, Acked: 2, CommittedMissing: 1},
			example: "committed missing: b of committed txn x",
		},
		{
			name: "committed txn without final committed read",
			h: History{
				Sends: []Send{ckTxn(ckAck("t1", 0, "a", 0, 0), "x")},
				Txns:  map[string]TxnOutcome{"x": {Committed: true}},
				Reads: []Read{ckReadC("c1", 0, 0, 0, "a")},
				Final: ckLog(ckAt(0, 0, "a")),
			},
			want: Report{Sent: 1, Acked: 1},
		},
		{
			name: "committed txn record lost",
			h: History{
				Sends: []Send{ckTxn(ckAck("t1", 0, "a", 0, 0), "x")},
				Txns:  map[string]TxnOutcome{"x": {Committed: true}},
				Final: ckLog(), FinalCommitted: ckLog(),
			},
			want:    Report{Sent: 1, Acked: 1, Lost: 1, CommittedMissing: 1},
			example: "lost: a",
		},
		{
			name: "duplicate of idempotent producer",
			h: History{Sends: []Send{ckAck("p1", 0, "a", 0, 0)}, Reads: []Read{ckRead("c1", 0, 0, 0, "a")},
				Final: ckLog(ckAt(0, 0, "a"), ckAt(0, 1, "a"))},
			want:    Report{Sent: 1, Acked: 1, Duplicated: 1},
			example: "duplicated: a of idempotent producer p1 at 0/0 and 0/1",
		},
		{
			name: "duplicate of non-idempotent producer is allowed",
			h: History{Sends: []Send{ckPlain(ckAck("p1", 0, "a", 0, 0))}, Reads: []Read{ckRead("c1", 0, 0, 0, "a")},
				Final: ckLog(ckAt(0, 0, "a"), ckAt(0, 1, "a"))},
			want: Report{Sent: 1, Acked: 1, DuplicatedAtLeastOnce: 1},
		},
		{
			name: "one offset with two values",
			h: History{Sends: three,
				Reads: []Read{ckRead("c1", 0, 0, 0, "a"), ckRead("c1", 0, 0, 1, "b"), ckRead("c2", 0, 0, 1, "c"), ckRead("c2", 0, 1, 0, "c")},
				Final: threeFinal},
			want:    Report{Sent: 3, Acked: 3, Inconsistent: 1},
			example: "inconsistent: 0/1 holds b and c (from c2)",
		},
		{
			name: "value nobody sent",
			h: History{Sends: three, Reads: threeReads,
				Final: ckLog(ckAt(0, 0, "a"), ckAt(0, 1, "b"), ckAt(0, 2, "zz"), ckAt(1, 0, "c"))},
			want:    Report{Sent: 3, Acked: 3, Inconsistent: 1},
			example: `unknown value: "zz" at 0/2`,
		},
		{
			name: "value at another offset than acknowledged",
			h: History{Sends: []Send{ckAck("p1", 0, "a", 0, 0)}, Reads: []Read{ckRead("c1", 0, 0, 3, "a")},
				Final: ckLog(ckAt(0, 3, "a"))},
			want:    Report{Sent: 1, Acked: 1, Moved: 1},
			example: "moved: a acknowledged at 0/0 but found at 0/3",
		},
		{
			name: "two values swapped: each moved, each position inconsistent",
			h: History{Sends: []Send{ckAck("p1", 0, "a", 0, 0), ckAck("p1", 1, "b", 0, 1)},
				Reads: []Read{ckRead("c1", 0, 0, 0, "b"), ckRead("c1", 0, 0, 1, "a")},
				Final: ckLog(ckAt(0, 0, "b"), ckAt(0, 1, "a"))},
			want:    Report{Sent: 2, Acked: 2, Moved: 2, Inconsistent: 2},
			example: "inconsistent: 0/0 holds a and b",
		},
		{
			name: "non-monotonic send",
			h: History{
				// out of Seq order in the slice; by Seq the offsets are 5, 3, 6.
				Sends: []Send{ckAck("p1", 2, "c", 0, 6), ckAck("p1", 0, "a", 0, 5), ckAck("p1", 1, "b", 0, 3),
					ckPlain(ckAck("p2", 0, "x", 0, 8)), ckPlain(ckAck("p2", 1, "y", 0, 7))},
				Reads: []Read{ckRead("c1", 0, 0, 3, "b"), ckRead("c1", 0, 0, 5, "a"), ckRead("c1", 0, 0, 6, "c"),
					ckRead("c1", 0, 0, 7, "y"), ckRead("c1", 0, 0, 8, "x")},
				Final: ckLog(ckAt(0, 3, "b"), ckAt(0, 5, "a"), ckAt(0, 6, "c"), ckAt(0, 7, "y"), ckAt(0, 8, "x"))},
			want:    Report{Sent: 5, Acked: 5, NonMonotonicSend: 1},
			example: "non-monotonic send: producer p1 partition 0: seq 1 (b) at offset 3 after seq 0 (a) at offset 5",
		},
		{
			name: "non-monotonic poll within a session, not across sessions",
			h: History{Sends: three,
				Reads: []Read{
					ckRead("c1", 0, 0, 0, "a"), ckRead("c1", 0, 1, 0, "c"), ckRead("c1", 0, 0, 1, "b"),
					ckRead("c1", 0, 0, 1, "b"), // redelivered in the same session
					ckRead("c1", 1, 0, 0, "a"), // a new session starts over
					ckRead("c2", 0, 0, 1, "b"), // another consumer is independent
				},
				Final: threeFinal},
			want:    Report{Sent: 3, Acked: 3, NonMonotonicPoll: 1},
			example: "non-monotonic poll: consumer c1 session 0 partition 0: offset 1 after 1",
		},
		{
			name: "unknown-outcome txn record absent",
			h: History{Sends: []Send{ckTxn(ckAck("t1", 0, "a", 0, 0), "x")}, Txns: map[string]TxnOutcome{"x": {}},
				Final: ckLog(), FinalCommitted: ckLog()},
			want: Report{Sent: 1, Acked: 1},
		},
		{
			name: "unknown-outcome txn record present",
			h: History{Sends: []Send{ckTxn(ckAck("t1", 0, "a", 0, 0), "x")}, // no Txns entry: unknown
				Reads: []Read{ckReadC("c1", 0, 0, 0, "a")},
				Final: ckLog(ckAt(0, 0, "a")), FinalCommitted: ckLog(ckAt(0, 0, "a"))},
			want: Report{Sent: 1, Acked: 1},
		},
		{
			name: "unacked but present, unacked absent",
			h: History{Sends: []Send{{Producer: "p1", Seq: 0, Value: "a"}, {Producer: "p1", Seq: 1, Value: "b"}},
				Reads: []Read{ckRead("c1", 0, 0, 4, "a")},
				Final: ckLog(ckAt(0, 4, "a"))},
			want: Report{Sent: 2, Unacked: 2, UnackedPresent: 1},
		},
		{
			name: "acked and present but never read",
			h:    History{Sends: three, Reads: threeReads[:2], Final: threeFinal},
			want: Report{Sent: 3, Acked: 3, Unseen: 1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Check(tc.h)
			examples := got.Examples
			if len(got.MissingAt) != got.CommittedMissing {
				t.Errorf("MissingAt %v for %d committed missing", got.MissingAt, got.CommittedMissing)
			}
			got.Examples, got.MissingAt = nil, nil
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Check:\n got %+v\nwant %+v\nexamples: %q", got, tc.want, examples)
			}
			if ok := tc.example == ""; got.OK() != ok {
				t.Errorf("OK() = %v, want %v", got.OK(), ok)
			}
			if tc.example == "" && len(examples) != 0 {
				t.Errorf("unexpected examples %q", examples)
			}
			if tc.example != "" && !strings.Contains(strings.Join(examples, "\n"), tc.example) {
				t.Errorf("no example contains %q: %q", tc.example, examples)
			}
		})
	}
}

func TestCheckExamplesBounded(t *testing.T) {
	var h History
	for i := range 50 {
		h.Sends = append(h.Sends, ckAck("p1", i, string(rune('A'+i)), 0, int64(i)))
	}
	r := Check(h)
	if r.Lost != 50 || len(r.Examples) != maxCheckExamples {
		t.Fatalf("Lost = %d, %d examples; want 50, %d", r.Lost, len(r.Examples), maxCheckExamples)
	}
}

func TestCheckString(t *testing.T) {
	r := Check(History{Sends: []Send{ckAck("p1", 17, "p1-17", 0, 345)}, Final: ckLog()})
	s := r.String()
	for _, want := range []string{"FAIL", "lost=1", "moved=0", "duplicated=0", "inconsistent=0", "non-monotonic-send=0",
		"non-monotonic-poll=0", "aborted-reads=0", "committed-missing=0", "lost: p1-17 acknowledged at 0/345"} {
		if !strings.Contains(s, want) {
			t.Errorf("String() = %q, missing %q", s, want)
		}
	}
	if s := (Report{Sent: 1, Acked: 1}).String(); !strings.HasPrefix(s, "OK:") || strings.Contains(s, "examples") {
		t.Errorf("String() of a clean report = %q", s)
	}
}
