package txn

import (
	"encoding/hex"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/sluice-io/sluice/internal/coord/runtime"
	"github.com/sluice-io/sluice/internal/model"
)

func expect[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
}

func expectMarkers(t *testing.T, h *harness, want ...string) {
	t.Helper()
	if got := h.markers(); !slices.Equal(got, want) {
		t.Fatalf("markers %q, want %q", got, want)
	}
}

func TestInitProducerID(t *testing.T) {
	h := newHarness(t)
	r := h.init("tx", 60000, -1, -1)
	expect(t, "first init", r, opResult{pid: 1000, epoch: 0})
	r = h.init("tx", 60000, -1, -1)
	expect(t, "second init bumps the epoch", r, opResult{pid: 1000, epoch: 1})
	// KIP-360: the producer passes its id and epoch.
	r = h.init("tx", 60000, 1000, 1)
	expect(t, "recovery from the current epoch", r, opResult{pid: 1000, epoch: 2})
	r = h.init("tx", 60000, 1000, 1)
	expect(t, "retry of that recovery", r, opResult{pid: 1000, epoch: 2})
	expect(t, "fenced epoch", h.init("tx", 60000, 1000, 0).code, codeProducerFenced)
	expect(t, "another producer id", h.init("tx", 60000, 55, 0).code, codeProducerFenced)
	expect(t, "state", h.state("tx"), "Empty 1000/2 []")
	// KIP-360 for an id the coordinator does not know: a new producer id.
	expect(t, "unknown id with an epoch", h.init("other", 60000, 77, 3), opResult{pid: 1001, epoch: 0})
}

func TestEpochExhaustionRotatesProducerID(t *testing.T) {
	h := newHarness(t)
	h.init("tx", 60000, -1, -1)
	h.run(func(s *shard, w *runtime.Writer) {
		m := s.txns["tx"].clone()
		m.epoch = math.MaxInt16 - 1
		s.write(w, m)
	})
	expect(t, "exhausted epoch", h.init("tx", 60000, 1000, math.MaxInt16-1), opResult{pid: 1001, epoch: 0})
	// A retry of the rotation passes the old id and epoch.
	expect(t, "retry after rotation: the same answer", h.init("tx", 60000, 1000, math.MaxInt16-1), opResult{pid: 1001, epoch: 0})
}

func TestCommitAndAbort(t *testing.T) {
	h := newHarness(t)
	h.init("tx", 60000, -1, -1)
	expect(t, "add", h.add("tx", 1000, 0, "a-0", "b-1"), 0)
	expect(t, "add again", h.add("tx", 1000, 0, "a-0"), 0)
	expect(t, "state", h.state("tx"), "Ongoing 1000/0 [a-0 b-1]")
	expect(t, "wrong producer", h.add("tx", 999, 0, "a-2"), codeInvalidProducerIDMap)
	expect(t, "fenced epoch", h.add("tx", 1000, 1, "a-2"), codeProducerFenced)
	r := h.end("tx", 1000, 0, true, false)
	expect(t, "commit", r.code, 0)
	expect(t, "preparing", h.state("tx"), "PrepareCommit 1000/0 [a-0 b-1]")
	expect(t, "add while preparing", h.add("tx", 1000, 0, "a-2"), codeConcurrentTransactions)
	expect(t, "commit retry while preparing", h.end("tx", 1000, 0, true, false).code, codeConcurrentTransactions)
	expect(t, "abort while committing", h.end("tx", 1000, 0, false, false).code, codeInvalidTxnState)
	expectMarkers(t, h, "COMMIT 1000/0 [a-0 b-1]")
	select {
	case <-r.wait:
	default:
		t.Fatal("EndTxn's wait not released by the completion")
	}
	expect(t, "complete", h.state("tx"), "CompleteCommit 1000/0 []")
	expect(t, "commit retry", h.end("tx", 1000, 0, true, false).code, 0)
	expect(t, "abort after commit", h.end("tx", 1000, 0, false, false).code, codeInvalidTxnState)
	// The next transaction, aborted.
	expect(t, "add", h.add("tx", 1000, 0, "c-0"), 0)
	expect(t, "abort", h.end("tx", 1000, 0, false, false).code, 0)
	expectMarkers(t, h, "ABORT 1000/0 [c-0]")
	expect(t, "complete", h.state("tx"), "CompleteAbort 1000/0 []")
	expect(t, "end without a transaction", h.end("tx", 1000, 0, true, false).code, codeInvalidTxnState)
}

// TestInitFencesOngoingTransaction: a second producer with the same
// transactional id aborts the first one's transaction with a bumped
// epoch, then gets its own epoch.
func TestInitFencesOngoingTransaction(t *testing.T) {
	h := newHarness(t)
	h.init("tx", 60000, -1, -1)
	h.add("tx", 1000, 0, "a-0")
	r := h.init("tx", 60000, -1, -1)
	expect(t, "init during a transaction", r.code, codeConcurrentTransactions)
	if r.wait == nil {
		t.Fatal("no wait for the abort")
	}
	expect(t, "fencing abort", h.state("tx"), "PrepareAbort 1000/1 [a-0]")
	expect(t, "zombie commit", h.end("tx", 1000, 0, true, false).code, codeProducerFenced)
	expect(t, "init while aborting", h.init("tx", 60000, -1, -1).code, codeConcurrentTransactions)
	expectMarkers(t, h, "ABORT 1000/1 [a-0]")
	expect(t, "retried init", h.init("tx", 60000, -1, -1), opResult{pid: 1000, epoch: 2})
	expect(t, "zombie add", h.add("tx", 1000, 0, "a-0"), codeProducerFenced)
}

func TestTimeoutAbortFencesProducer(t *testing.T) {
	h := newHarness(t)
	h.init("tx", 5000, -1, -1)
	h.add("tx", 1000, 0, "a-0")
	h.clock.Advance(4 * time.Second)
	expect(t, "before the timeout", h.state("tx"), "Ongoing 1000/0 [a-0]")
	h.clock.Advance(time.Second)
	expect(t, "timed out", h.state("tx"), "PrepareAbort 1000/1 [a-0]")
	expectMarkers(t, h, "ABORT 1000/1 [a-0]")
	expect(t, "producer's commit", h.end("tx", 1000, 0, true, false).code, codeProducerFenced)
	expect(t, "producer's add", h.add("tx", 1000, 0, "a-0"), codeProducerFenced)
	expect(t, "new producer", h.init("tx", 5000, -1, -1), opResult{pid: 1000, epoch: 2})
}

// TestReloadMidCommit: a coordinator that stops after PrepareCommit is
// durable but before the markers are written; its successor writes them
// and completes the commit.
func TestReloadMidCommit(t *testing.T) {
	h := newHarness(t)
	h.init("tx", 60000, -1, -1)
	h.add("tx", 1000, 0, "a-0", "a-1")
	h.end("tx", 1000, 0, true, false)
	h.restart()
	expect(t, "reloaded", h.state("tx"), "PrepareCommit 1000/0 [a-0 a-1]")
	expectMarkers(t, h, "COMMIT 1000/0 [a-0 a-1]")
	expect(t, "completed by the new coordinator", h.state("tx"), "CompleteCommit 1000/0 []")
	h.restart()
	expect(t, "after another reload", h.state("tx"), "CompleteCommit 1000/0 []")
	expectMarkers(t, h)
}

func TestExpireTransactionalIDs(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.IDExpiration = 10 * time.Minute; o.AbortTimedOutInterval = time.Hour })
	h.init("idle", 60000, -1, -1)
	h.init("busy", int32(time.Hour/time.Millisecond), -1, -1)
	h.add("busy", 1001, 0, "a-0")
	h.clock.Advance(11 * time.Minute)
	expect(t, "idle id", h.state("idle"), "none")
	expect(t, "id with an open transaction", h.state("busy"), "Ongoing 1001/0 [a-0]")
	h.restart()
	expect(t, "expiry is durable", h.state("idle"), "none")
	expect(t, "new producer id for a re-used id", h.init("idle", 60000, -1, -1), opResult{pid: 1002, epoch: 0})
}

// TestTransactionsV2: EndTxn v5 bumps the epoch on every transaction
// (KIP-890 part 2), recognizes retries and allows an empty abort.
func TestTransactionsV2(t *testing.T) {
	h := newHarness(t)
	h.init("tx", 60000, -1, -1)
	h.add("tx", 1000, 0, "a-0")
	r := h.end("tx", 1000, 0, true, true)
	expect(t, "commit answer", [3]int64{int64(r.code), int64(r.pid), int64(r.epoch)}, [3]int64{0, 1000, 1})
	expectMarkers(t, h, "COMMIT 1000/1 [a-0]")
	expect(t, "after", h.state("tx"), "CompleteCommit 1000/1 []")
	r = h.end("tx", 1000, 0, true, true)
	expect(t, "retry", [3]int64{int64(r.code), int64(r.pid), int64(r.epoch)}, [3]int64{0, 1000, 1})
	expect(t, "retry with the other outcome", h.end("tx", 1000, 0, false, true).code, codeInvalidTxnState)
	r = h.end("tx", 1000, 1, false, true)
	expect(t, "empty abort", [3]int64{int64(r.code), int64(r.pid), int64(r.epoch)}, [3]int64{0, 1000, 2})
	expectMarkers(t, h, "ABORT 1000/2 []")
	// Exhaustion: the next producer id comes with the completion.
	h.run(func(s *shard, w *runtime.Writer) {
		m := s.txns["tx"].clone()
		m.epoch = math.MaxInt16 - 1
		s.write(w, m)
	})
	h.add("tx", 1000, math.MaxInt16-1, "a-0")
	r = h.end("tx", 1000, math.MaxInt16-1, true, true)
	expect(t, "rotation answer", [3]int64{int64(r.code), int64(r.pid), int64(r.epoch)}, [3]int64{0, 1001, 0})
	expectMarkers(t, h, "COMMIT 1000/32767 [a-0]")
	expect(t, "rotated", h.state("tx"), "CompleteCommit 1001/0 []")
	r = h.end("tx", 1000, math.MaxInt16-1, true, true)
	expect(t, "retry across the rotation", [3]int64{int64(r.code), int64(r.pid), int64(r.epoch)}, [3]int64{0, 1001, 0})
}

func TestVerifyOnly(t *testing.T) {
	h := newHarness(t)
	h.init("tx", 60000, -1, -1)
	verify := func(tps ...string) []int16 {
		var per []int16
		var code int16
		h.run(func(s *shard, w *runtime.Writer) {
			code, per = s.addPartitions(w, addReq{id: "tx", pid: 1000, epoch: 0, partitions: parseTPs(tps), verifyOnly: true})
		})
		if code != 0 {
			return []int16{code}
		}
		return per
	}
	if got := verify("a-0"); !slices.Equal(got, []int16{codeTransactionAbortable}) {
		t.Fatalf("before add: %v", got)
	}
	h.add("tx", 1000, 0, "a-0")
	if got := verify("a-0", "a-1"); !slices.Equal(got, []int16{0, codeTransactionAbortable}) {
		t.Fatalf("after add: %v", got)
	}
	expect(t, "verify writes nothing", h.state("tx"), "Ongoing 1000/0 [a-0]")
}

func TestDescribeAndList(t *testing.T) {
	h := newHarness(t)
	h.init("a", 60000, -1, -1)
	h.init("b", 60000, -1, -1)
	h.add("b", 1001, 0, "t-0", "t-1")
	var d string
	h.run(func(s *shard, _ *runtime.Writer) {
		x := s.describe("b")
		d = x.State + " " + x.Topics[0].Topic
		if x.StartTimestamp != h.clock.Now().UnixMilli() || len(x.Topics[0].Partitions) != 2 {
			t.Errorf("describe: %+v", x)
		}
		if s.describe("zz").ErrorCode != codeTxnIDNotFound {
			t.Error("unknown id described")
		}
	})
	expect(t, "describe", d, "Ongoing t")
	h.clock.Advance(2 * time.Second)
	tests := []struct {
		name string
		f    listFilter
		want []string
	}{
		{"all", listFilter{durationMs: -1}, []string{"a", "b"}},
		{"ongoing", listFilter{durationMs: -1, states: []State{Ongoing}}, []string{"b"}},
		{"producer id", listFilter{durationMs: -1, pids: map[model.ProducerID]bool{1000: true}}, []string{"a"}},
		{"running 1s", listFilter{durationMs: 1000}, []string{"a", "b"}},
		{"running 3s", listFilter{durationMs: 3000}, []string{"a"}}, // a has no start (-1)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.f.nowMs = h.clock.Now().UnixMilli()
			var got []string
			h.run(func(s *shard, _ *runtime.Writer) {
				for _, e := range s.list(&tt.f) {
					got = append(got, e.TransactionalID)
				}
			})
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestRecordBytes pins the __transaction_state record layout to Kafka's.
func TestRecordBytes(t *testing.T) {
	m := &meta{id: "tx", producerID: 5, prevProducerID: -1, nextProducerID: -1, epoch: 2, timeoutMs: 60000,
		state: Ongoing, startMs: 7, updateMs: 9,
		partitions: map[model.TopicPartition]struct{}{{Topic: "t", Partition: 1}: {}, {Topic: "t", Partition: 0}: {}}}
	expect(t, "key", hex.EncodeToString(recordKey("tx")), "0000"+"0002"+"7478")
	want := "0001" + "0000000000000005" + "0002" + "0000ea60" + "01" +
		"02" + "0274" + "03" + "00000000" + "00000001" + "00" + // compact array of one topic: "t", [0 1]
		"0000000000000009" + "0000000000000007" + "00"
	expect(t, "value", hex.EncodeToString(recordValue(m)), want)
	id, back, err := decodeRecord(recordKey("tx"), recordValue(m))
	if err != nil || id != "tx" || back.state != Ongoing || len(back.partitions) != 2 || back.epoch != 2 || back.startMs != 7 {
		t.Fatalf("decode: %q %+v %v", id, back, err)
	}
}
