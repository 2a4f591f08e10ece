package storage

import (
	"errors"
	"testing"

	"github.com/sluice-io/sluice/internal/batch"
	"github.com/sluice-io/sluice/internal/model"
)

func TestOffsetMapPutGetGrow(t *testing.T) {
	m := newOffsetMap(DefaultDedupeBufferBytes)
	if got := m.get([]byte("absent")); got != -1 {
		t.Errorf("get of an absent key = %d, want -1", got)
	}
	const n = 100_000 // several doublings from the initial 1024 slots
	for i := range n {
		if !m.put(keyOf(i%(n/2)), model.Offset(i)) {
			t.Fatalf("put %d: map full", i)
		}
	}
	if m.size != n/2 {
		t.Errorf("size %d, want %d distinct keys", m.size, n/2)
	}
	for i := range n / 2 {
		if got := m.get(keyOf(i)); got != model.Offset(i+n/2) {
			t.Fatalf("get(%q) = %d, want the latest offset %d", keyOf(i), got, i+n/2)
		}
	}
	if got := m.get([]byte{}); got != -1 {
		t.Errorf("empty key = %d, want -1", got)
	}
	m.put([]byte{}, 7)
	if got := m.get([]byte{}); got != 7 {
		t.Errorf("empty key = %d, want 7 (an empty key is a key)", got)
	}
}

func TestOffsetMapBudget(t *testing.T) {
	for _, tc := range []struct {
		budget  int64
		maxKeys int
	}{
		{0, 12},                 // 16 slots at least
		{64 * mapSlotSize, 48},  // 64 slots
		{100 * mapSlotSize, 48}, // rounded down to a power of two
	} {
		m := newOffsetMap(tc.budget)
		n := 0
		for m.put(keyOf(n), model.Offset(n)) {
			n++
		}
		if n != tc.maxKeys {
			t.Errorf("budget %d: %d keys fit, want %d", tc.budget, n, tc.maxKeys)
		}
		if !m.put(keyOf(0), 99) || m.get(keyOf(0)) != 99 {
			t.Errorf("budget %d: a full map must still update a key it holds", tc.budget)
		}
	}
}

func TestRequiresKeys(t *testing.T) {
	for _, tc := range []struct {
		policy string
		want   bool
	}{{"delete", false}, {"", false}, {"compact", true}, {"compact,delete", true}, {"delete,compact", true}} {
		cfg := DefaultConfig()
		cfg.CleanupPolicy = tc.policy
		if got := RequiresKeys(cfg); got != tc.want {
			t.Errorf("RequiresKeys(%q) = %v, want %v", tc.policy, got, tc.want)
		}
	}
}

func TestCleanFailsWhenOneBatchOverflowsTheMap(t *testing.T) {
	l := newTestLog(t, compactConfig())
	recs := make([]kv, 20)
	for i := range recs {
		recs[i] = kv{keyOf(i), []byte("v")}
	}
	appendKV(t, l, batch.CodecNone, t0, recs...)
	rollNow(t, l)
	if _, err := l.clean(t0, l.LogEndOffset(), 0); !errors.Is(err, errMapTooSmall) {
		t.Errorf("clean with a 12-key map over a 20-key batch = %v, want errMapTooSmall", err)
	}
}
