package txn

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sluice-io/sluice/internal/coord/runtime"
	"github.com/sluice-io/sluice/internal/coord/runtime/runtimetest"
	"github.com/sluice-io/sluice/internal/model"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// harness drives one shard over an in-memory log with a fake clock, as
// the Coordinator does; markers are "written" when the test says so.
type harness struct {
	t     *testing.T
	clock *runtimetest.Clock
	log   *runtimetest.Log
	opts  Options
	m     *shard
	sh    *runtime.Shard
	next  model.ProducerID // the next fresh producer id

	mu       sync.Mutex
	prepared []*meta // transactions whose markers are due, in order
}

func newHarness(t *testing.T, mods ...func(*Options)) *harness {
	t.Helper()
	h := &harness{t: t, clock: runtimetest.NewClock(time.Unix(1_700_000_000, 0)), log: runtimetest.NewLog(), next: 1000}
	h.opts = DefaultOptions()
	h.opts.AbortTimedOutInterval = time.Second
	h.opts.RemoveExpiredInterval = time.Minute
	for _, m := range mods {
		m(&h.opts)
	}
	h.opts.Clock = h.clock
	h.opts.normalize()
	h.load()
	return h
}

func (h *harness) load() {
	h.t.Helper()
	h.m = newShard(&h.opts, 0, 7, func(m *meta) {
		h.mu.Lock()
		h.prepared = append(h.prepared, m)
		h.mu.Unlock()
	})
	sh, err := runtime.Load(context.Background(), h.log, h.m, runtime.Options{Clock: h.clock})
	if err != nil {
		h.t.Fatalf("load: %v", err)
	}
	h.sh = sh
	h.t.Cleanup(sh.Close)
}

// restart closes the shard and loads a new one from the same log (a
// coordinator failover); markers not yet written are forgotten.
func (h *harness) restart() {
	h.sh.Close()
	h.mu.Lock()
	h.prepared = nil
	h.mu.Unlock()
	h.load()
}

func (h *harness) run(op func(s *shard, w *runtime.Writer)) {
	h.t.Helper()
	if err := h.sh.Run(func(w *runtime.Writer) { op(h.m, w) }); err != nil {
		h.t.Fatalf("run: %v", err)
	}
}

// runPID runs an op that may ask for a fresh producer id.
func (h *harness) runPID(op func(s *shard, w *runtime.Writer, pid model.ProducerID) opResult) opResult {
	h.t.Helper()
	var res opResult
	h.run(func(s *shard, w *runtime.Writer) { res = op(s, w, -1) })
	if res.needPID {
		pid := h.next
		h.next++
		h.run(func(s *shard, w *runtime.Writer) { res = op(s, w, pid) })
	}
	return res
}

func (h *harness) init(id string, timeoutMs int32, pid model.ProducerID, epoch model.ProducerEpoch) opResult {
	return h.runPID(func(s *shard, w *runtime.Writer, newPID model.ProducerID) opResult {
		return s.initProducerID(w, initReq{id: id, timeoutMs: timeoutMs, pid: pid, epoch: epoch}, newPID)
	})
}

func (h *harness) add(id string, pid model.ProducerID, epoch model.ProducerEpoch, tps ...string) int16 {
	var code int16
	h.run(func(s *shard, w *runtime.Writer) {
		code, _ = s.addPartitions(w, addReq{id: id, pid: pid, epoch: epoch, partitions: parseTPs(tps)})
	})
	return code
}

func (h *harness) end(id string, pid model.ProducerID, epoch model.ProducerEpoch, commit, tv2 bool) opResult {
	return h.runPID(func(s *shard, w *runtime.Writer, newPID model.ProducerID) opResult {
		return s.endTxn(w, endReq{id: id, pid: pid, epoch: epoch, commit: commit, tv2: tv2}, newPID)
	})
}

// markers completes every transaction whose markers are due and returns
// them as "COMMIT pid/epoch [partitions]" lines.
func (h *harness) markers() []string {
	h.t.Helper()
	h.mu.Lock()
	due := h.prepared
	h.prepared = nil
	h.mu.Unlock()
	var out []string
	for _, m := range due {
		kind := map[State]string{PrepareCommit: "COMMIT", PrepareAbort: "ABORT"}[m.state]
		out = append(out, fmt.Sprintf("%s %d/%d %v", kind, m.producerID, m.epoch, m.sortedPartitions()))
		h.run(func(s *shard, w *runtime.Writer) { s.complete(w, m) })
	}
	return out
}

// state renders an id's state as "State pid/epoch [partitions]".
func (h *harness) state(id string) string {
	var out string
	h.run(func(s *shard, _ *runtime.Writer) {
		m := s.txns[id]
		if m == nil {
			out = "none"
			return
		}
		out = fmt.Sprintf("%s %d/%d %v", m.state, m.producerID, m.epoch, m.sortedPartitions())
	})
	return out
}

func parseTPs(tps []string) []model.TopicPartition {
	out := make([]model.TopicPartition, len(tps))
	for i, s := range tps {
		var p int32
		var topic string
		fmt.Sscanf(s, "%1s-%d", &topic, &p)
		out[i] = model.TopicPartition{Topic: topic, Partition: p}
	}
	return out
}
