package group

import (
	"maps"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/coord/runtime"
	"github.com/sluice-io/sluice/internal/model"
)

// txnCommit writes a TxnOffsetCommit of partition -> offset for producer
// pid at epoch (generation -1, as a producer outside the group sends it).
func (h *harness) txnCommit(group string, pid int64, epoch int16, offsets map[int32]int64) int16 {
	h.t.Helper()
	req := kmsg.NewPtrTxnOffsetCommitRequest()
	req.Version, req.Group, req.ProducerID, req.ProducerEpoch, req.Generation = 3, group, pid, epoch, -1
	resp := make([]kmsg.TxnOffsetCommitResponseTopicPartition, 0, len(offsets))
	var parts []txnCommitPartition
	for p, o := range offsets {
		rp := kmsg.NewTxnOffsetCommitRequestTopicPartition()
		rp.Partition, rp.Offset = p, o
		resp = append(resp, kmsg.TxnOffsetCommitResponseTopicPartition{})
		parts = append(parts, txnCommitPartition{topic: "t", part: &rp, resp: &resp[len(resp)-1]})
	}
	h.run(func(s *shard, w *runtime.Writer) { s.txnCommit(w, req, parts) })
	return resp[0].ErrorCode
}

func (h *harness) marker(pid int64, epoch int16, coordEpoch int32, commit bool) int16 {
	var code int16
	h.run(func(s *shard, w *runtime.Writer) {
		if code = s.checkMarker(model.ProducerID(pid), model.ProducerEpoch(epoch), coordEpoch); code == 0 {
			w.AppendMarker(model.ProducerID(pid), model.ProducerEpoch(epoch), coordEpoch, commit)
		}
	})
	return code
}

// unstable lists the partitions a require_stable fetch reports unstable.
func (h *harness) unstable(group string) map[int32]bool {
	out := map[int32]bool{}
	h.run(func(s *shard, _ *runtime.Writer) {
		fetched := s.fetch(group, []fetchTopic{{topic: "t", partitions: []int32{0, 1, 2}}})
		s.markUnstable(group, fetched)
		for _, o := range fetched {
			if o.code == codeUnstableOffsetCommit {
				out[o.partition] = true
			}
		}
	})
	return out
}

func TestTxnOffsetCommits(t *testing.T) {
	h := newHarness(t)
	if code := h.txnCommit("g", 7, 0, map[int32]int64{0: 10, 1: 11}); code != 0 {
		t.Fatalf("txn commit: %d", code)
	}
	if got := h.fetch("g"); len(got) != 0 {
		t.Fatalf("pending offsets visible: %v", got)
	}
	if got := h.unstable("g"); !maps.Equal(got, map[int32]bool{0: true, 1: true}) {
		t.Fatalf("unstable %v", got)
	}
	h.txnCommit("g", 8, 0, map[int32]int64{2: 99})
	if code := h.marker(8, 0, 1, false); code != 0 {
		t.Fatalf("abort marker: %d", code)
	}
	if code := h.marker(7, 0, 1, true); code != 0 {
		t.Fatalf("commit marker: %d", code)
	}
	want := map[int32]int64{0: 10, 1: 11}
	if got := h.fetch("g"); !maps.Equal(got, want) {
		t.Fatalf("after markers %v, want %v", got, want)
	}
	if got := h.unstable("g"); len(got) != 0 {
		t.Fatalf("still unstable: %v", got)
	}
	// A plain commit written after a transactional one wins over it.
	h.txnCommit("g", 7, 1, map[int32]int64{0: 20})
	h.commit("g", "", -1, "", 30)
	h.marker(7, 1, 1, true)
	if got := h.fetch("g")[0]; got != 30 {
		t.Fatalf("partition 0 = %d, want the later plain commit 30", got)
	}
	// Fenced writes are refused before they reach the log.
	if code := h.txnCommit("g", 7, 0, map[int32]int64{0: 1}); code != codeInvalidProducerEpoch {
		t.Fatalf("old epoch commit: %d", code)
	}
	if code := h.marker(7, 0, 1, true); code != codeInvalidProducerEpoch {
		t.Fatalf("old epoch marker: %d", code)
	}
	if code := h.marker(7, 1, 0, true); code != codeTransactionCoordinatorFenced {
		t.Fatalf("old coordinator marker: %d", code)
	}
	// Pending offsets and markers replay.
	h.txnCommit("g", 9, 0, map[int32]int64{1: 50})
	h.restart()
	if got := h.fetch("g"); !maps.Equal(got, map[int32]int64{0: 30, 1: 11}) {
		t.Fatalf("after reload %v", got)
	}
	if got := h.unstable("g"); !maps.Equal(got, map[int32]bool{1: true}) {
		t.Fatalf("after reload unstable %v", got)
	}
	h.marker(9, 0, 1, true)
	if got := h.fetch("g")[1]; got != 50 {
		t.Fatalf("partition 1 = %d after the reloaded commit", got)
	}
}
