package runtime_test

import (
	"slices"
	"testing"

	"github.com/sluice-io/sluice/internal/batch"
	"github.com/sluice-io/sluice/internal/coord/runtime"
	"github.com/sluice-io/sluice/internal/coord/runtime/runtimetest"
	smodel "github.com/sluice-io/sluice/internal/model"
)

// txnKV is kv with pending transactional values per producer, applied or
// dropped by markers (what the group coordinator does with transactional
// offset commits).
type txnKV struct {
	*kv
	pending map[int64]map[string]string
	events  []string
}

func newTxnKV() *txnKV { return &txnKV{kv: newKV(), pending: map[int64]map[string]string{}} }

func (k *txnKV) Replay(h batch.Header, rec *batch.Record) error {
	if !h.IsTransactional() {
		return k.kv.Replay(h, rec)
	}
	if k.pending[h.ProducerID()] == nil {
		k.pending[h.ProducerID()] = map[string]string{}
	}
	k.pending[h.ProducerID()][string(rec.Key)] = string(rec.Value)
	return nil
}

func (k *txnKV) ReplayMarker(h batch.Header, commit bool, coordinatorEpoch int32) error {
	if coordinatorEpoch != 3 {
		k.events = append(k.events, "bad coordinator epoch")
	}
	k.events = append(k.events, map[bool]string{true: "commit", false: "abort"}[commit])
	if commit {
		for key, v := range k.pending[h.ProducerID()] {
			k.m[key] = v
		}
	}
	delete(k.pending, h.ProducerID())
	return nil
}

func TestTransactionalRecordsAndMarkers(t *testing.T) {
	log := runtimetest.NewLog()
	m := newTxnKV()
	s := load(t, log, m, runtime.Options{})
	txn := func(pid int64, kvs ...string) {
		t.Helper()
		err := s.Run(func(w *runtime.Writer) {
			w.Transactional(smodel.ProducerID(pid), 0)
			for i := 0; i < len(kvs); i += 2 {
				w.Append([]byte(kvs[i]), []byte(kvs[i+1]))
			}
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	end := func(pid int64, commit bool) {
		t.Helper()
		if err := s.Run(func(w *runtime.Writer) { w.AppendMarker(smodel.ProducerID(pid), 0, 3, commit) }); err != nil {
			t.Fatal(err)
		}
	}
	txn(1, "a", "1")
	txn(2, "b", "2")
	if len(m.m) != 0 {
		t.Fatalf("pending values visible: %v", m.m)
	}
	end(1, true)
	end(2, false)
	txn(3, "c", "3") // left open
	if m.m["a"] != "1" || m.m["b"] != "" || len(m.pending) != 1 {
		t.Fatalf("after markers: %v, pending %v", m.m, m.pending)
	}
	var control int
	for _, b := range log.Batches() {
		if h := batch.Header(b); h.IsControl() {
			control++
			if !h.IsTransactional() || h.ProducerID() < 1 {
				t.Fatalf("marker header: transactional %v pid %d", h.IsTransactional(), h.ProducerID())
			}
		}
	}
	if control != 2 {
		t.Fatalf("%d control batches, want 2", control)
	}
	s.Close()
	m2 := newTxnKV()
	load(t, log, m2, runtime.Options{})
	if m2.m["a"] != "1" || len(m2.m) != 1 || len(m2.pending) != 1 || !slices.Equal(m2.events, []string{"commit", "abort"}) {
		t.Fatalf("replayed: %v, pending %v, events %v", m2.m, m2.pending, m2.events)
	}
}
