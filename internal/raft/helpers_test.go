package raft

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var errTestApply = errors.New("test: apply refused")

type item struct {
	Index   uint64
	Payload string
}

// testSM records what it is given. Safe for concurrent use.
type testSM struct {
	mu        sync.Mutex
	applied   uint64        // guarded by mu
	items     []item        // guarded by mu; the state, in apply order
	applies   int           // guarded by mu; Apply calls in this lifetime
	restores  []uint64      // guarded by mu; Restore indexes
	snapshots int           // guarded by mu; Snapshot calls
	failOn    string        // guarded by mu; Apply refuses this payload
	changed   chan struct{} // guarded by mu; closed on every change
}

func newTestSM() *testSM { return &testSM{changed: make(chan struct{})} }

func (s *testSM) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *testSM) Apply(index uint64, data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if index <= s.applied {
		return fmt.Errorf("test: apply %d after %d", index, s.applied)
	}
	if s.failOn != "" && string(data) == s.failOn {
		return errTestApply
	}
	s.items = append(s.items, item{index, string(data)})
	s.applied = index
	s.applies++
	s.notify()
	return nil
}

type smState struct {
	Applied uint64
	Items   []item
}

func (s *testSM) Snapshot() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.snapshots++
	return json.Marshal(smState{s.applied, s.items})
}

func (s *testSM) Restore(index uint64, data []byte) error {
	var st smState
	if err := json.Unmarshal(data, &st); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.items, s.applied = st.Items, index
	s.restores = append(s.restores, index)
	s.notify()
	return nil
}

// waitApplied waits until the state machine has applied index.
func (s *testSM) waitApplied(t *testing.T, index uint64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		s.mu.Lock()
		applied, ch := s.applied, s.changed
		s.mu.Unlock()
		if applied >= index {
			return
		}
		select {
		case <-ch:
		case <-ctx.Done():
			t.Fatalf("applied %d, want %d", applied, index)
		}
	}
}

func (s *testSM) state() (items []item, applies int, restores []uint64, snapshots int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]item(nil), s.items...), s.applies, append([]uint64(nil), s.restores...), s.snapshots
}

// payloads returns the state's payloads in order and fails on a duplicate.
func (s *testSM) payloads(t *testing.T) []string {
	t.Helper()
	items, _, _, _ := s.state()
	seen := make(map[string]bool, len(items))
	out := make([]string, len(items))
	for i, it := range items {
		if seen[it.Payload] {
			t.Fatalf("payload %q applied twice", it.Payload)
		}
		if i > 0 && it.Index <= items[i-1].Index {
			t.Fatalf("index %d after %d", it.Index, items[i-1].Index)
		}
		seen[it.Payload] = true
		out[i] = it.Payload
	}
	return out
}

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// singleConfig is a one-voter quorum in dir.
func singleConfig(dir string) Config {
	return Config{ID: 1, Dir: dir, Peers: []Peer{{ID: 1}}, Logger: quietLogger()}
}

func mustOpen(t *testing.T, cfg Config, sm StateMachine) *Node {
	t.Helper()
	n, err := Open(cfg, sm)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return n
}

func mustClose(t *testing.T, n *Node) {
	t.Helper()
	if err := n.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func propose(t *testing.T, n *Node, payload string) uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	idx, err := n.Propose(ctx, []byte(payload))
	if err != nil {
		t.Fatalf("Propose(%q): %v", payload, err)
	}
	return idx
}

func payloadList(from, to int) []string {
	out := make([]string, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("p-%d", i))
	}
	return out
}

// dirFiles returns the names of the WAL segments and snapshots in dir.
func dirFiles(t *testing.T, dir string) (segs, snaps []string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if _, ok := parseSegmentName(e.Name()); ok {
			segs = append(segs, e.Name())
		}
		if _, _, ok := parseSnapName(e.Name()); ok {
			snaps = append(snaps, e.Name())
		}
	}
	return segs, snaps
}

// onlySegment returns the path of the WAL's single segment.
func onlySegment(t *testing.T, dir string) string {
	t.Helper()
	segs, _ := dirFiles(t, dir)
	if len(segs) != 1 {
		t.Fatalf("segments = %v, want one", segs)
	}
	return filepath.Join(dir, segs[0])
}

func testLogger(t *testing.T) *slog.Logger {
	if os.Getenv("RAFT_TEST_LOG") == "" {
		return quietLogger()
	}
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelInfo}))
}
