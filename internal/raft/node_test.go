package raft

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestSingleNodeProposeAppliesInOrderOnce(t *testing.T) {
	tests := []struct {
		name    string
		workers int
		perWork int
	}{
		{"sequential", 1, 100},
		{"concurrent", 8, 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sm := newTestSM()
			n := mustOpen(t, singleConfig(t.TempDir()), sm)
			defer mustClose(t, n)
			if got := n.Leader(); got != 1 {
				t.Fatalf("Leader() right after Open = %d, want 1", got)
			}
			var mu sync.Mutex
			indexOf := make(map[string]uint64)
			var wg sync.WaitGroup
			for w := range tt.workers {
				wg.Go(func() {
					for _, p := range payloadList(w*tt.perWork, (w+1)*tt.perWork) {
						idx := propose(t, n, p)
						mu.Lock()
						indexOf[p] = idx
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			items, applies, _, _ := sm.state()
			if want := tt.workers * tt.perWork; applies != want || len(items) != want {
				t.Fatalf("applies = %d, items = %d, want %d", applies, len(items), want)
			}
			sm.payloads(t) // order and uniqueness
			for _, it := range items {
				if indexOf[it.Payload] != it.Index {
					t.Fatalf("Propose(%q) returned %d, applied at %d", it.Payload, indexOf[it.Payload], it.Index)
				}
			}
			if got := n.AppliedIndex(); got < items[len(items)-1].Index {
				t.Fatalf("AppliedIndex = %d, below last applied %d", got, items[len(items)-1].Index)
			}
		})
	}
}

func TestReopenRestoresSnapshotAndReplaysLog(t *testing.T) {
	tests := []struct {
		name          string
		snapEvery     uint64
		entries       int
		wantSnapshots bool
	}{
		{"log only", 10000, 120, false},
		{"snapshot and log", 50, 120, true},
		{"many snapshots", 7, 120, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := singleConfig(dir)
			cfg.SnapshotEntries = tt.snapEvery
			sm1 := newTestSM()
			n := mustOpen(t, cfg, sm1)
			for _, p := range payloadList(0, tt.entries) {
				propose(t, n, p)
			}
			mustClose(t, n)
			before := sm1.payloads(t)

			sm2 := newTestSM()
			n = mustOpen(t, cfg, sm2)
			after := sm2.payloads(t)
			if !slices.Equal(before, after) {
				t.Fatalf("state after reopen differs:\n got %v\nwant %v", after, before)
			}
			_, applies, restores, _ := sm2.state()
			if tt.wantSnapshots != (len(restores) == 1) {
				t.Fatalf("restores = %v, want snapshot restored: %v", restores, tt.wantSnapshots)
			}
			if len(restores) == 1 {
				restored := 0
				for _, it := range sm2.items {
					if it.Index <= restores[0] {
						restored++
					}
				}
				if restored+applies != tt.entries {
					t.Fatalf("restored %d + replayed %d != %d", restored, applies, tt.entries)
				}
			} else if applies != tt.entries {
				t.Fatalf("replayed %d entries, want %d", applies, tt.entries)
			}
			// The log goes on after the reopen.
			idx := propose(t, n, "after")
			if last := sm1.items[len(sm1.items)-1].Index; idx <= last {
				t.Fatalf("index after reopen %d, not above %d", idx, last)
			}
			mustClose(t, n)
			sm3 := newTestSM()
			n = mustOpen(t, cfg, sm3)
			defer mustClose(t, n)
			if got := sm3.payloads(t); !slices.Equal(got, append(before, "after")) {
				t.Fatalf("second reopen: %d payloads, want %d", len(got), len(before)+1)
			}
		})
	}
}

func TestSnapshotCompactsWAL(t *testing.T) {
	dir := t.TempDir()
	cfg := singleConfig(dir)
	cfg.SnapshotEntries = 25
	sm := newTestSM()
	n := mustOpen(t, cfg, sm)
	defer mustClose(t, n)
	payload := string(make([]byte, 1024))
	var maxSize int64
	for i := range 250 {
		propose(t, n, fmt.Sprintf("%d-%s", i, payload))
		st, err := os.Stat(onlySegment(t, dir))
		if err != nil {
			t.Fatal(err)
		}
		maxSize = max(maxSize, st.Size())
	}
	_, _, _, snapshots := sm.state()
	if snapshots < 9 {
		t.Fatalf("state machine snapshotted %d times, want >= 9", snapshots)
	}
	// 250 entries of 1 KiB would be 250 KiB; compaction keeps ~25.
	if limit := int64(30 * 1100); maxSize > limit {
		t.Fatalf("WAL grew to %d bytes, want <= %d", maxSize, limit)
	}
	segs, snaps := dirFiles(t, dir)
	if len(segs) != 1 || len(snaps) != 1 {
		t.Fatalf("files: segments %v, snapshots %v; want one of each", segs, snaps)
	}
}

func TestTornTailRepairedOnOpen(t *testing.T) {
	partial := appendEntryRecord(nil, testEntry(1000, 9, "never synced"))
	tests := []struct {
		name   string
		mangle func(t *testing.T, path string)
	}{
		{"partial record appended", appendBytes(partial[:len(partial)/2])},
		{"garbage appended", appendBytes([]byte("\x13\x00\x00\x00garbage that is not a record"))},
		{"zeros appended", appendBytes(make([]byte, 4096))},
		{"last record cut", cutTail(5)},
		{"record header cut", cutTail(recordHeaderSize + 24 - 3)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := singleConfig(dir)
			n := mustOpen(t, cfg, newTestSM())
			want := payloadList(0, 30)
			for _, p := range want {
				propose(t, n, p)
			}
			mustClose(t, n)
			tt.mangle(t, onlySegment(t, dir))

			sm := newTestSM()
			n = mustOpen(t, cfg, sm)
			if got := sm.payloads(t); !slices.Equal(got, want) {
				t.Fatalf("after repair: %v, want %v", got, want)
			}
			propose(t, n, "after repair")
			mustClose(t, n)
			sm = newTestSM()
			n = mustOpen(t, cfg, sm)
			defer mustClose(t, n)
			if got := sm.payloads(t); !slices.Equal(got, append(want, "after repair")) {
				t.Fatalf("reopen after repair: %v", got)
			}
		})
	}
}

func appendBytes(b []byte) func(*testing.T, string) {
	return func(t *testing.T, path string) {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.Write(b); err != nil {
			t.Fatal(err)
		}
	}
}

func cutTail(n int64) func(*testing.T, string) {
	return func(t *testing.T, path string) {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(path, st.Size()-n); err != nil {
			t.Fatal(err)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, dir string) Config
		want    error
	}{
		{"zero id", func(_ *testing.T, dir string) Config {
			return Config{Dir: dir, Peers: []Peer{{ID: 1}}}
		}, nil},
		{"self not a peer", func(_ *testing.T, dir string) Config {
			return Config{ID: 2, Dir: dir, Peers: []Peer{{ID: 1}}}
		}, nil},
		{"no transport for a quorum", func(_ *testing.T, dir string) Config {
			return Config{ID: 1, Dir: dir, Peers: []Peer{{ID: 1}, {ID: 2}, {ID: 3}}}
		}, nil},
		{"bad segment magic", func(t *testing.T, dir string) Config {
			cfg := bootstrapped(t, dir)
			if err := os.WriteFile(onlySegment(t, dir), []byte("not a wal segment"), 0o644); err != nil {
				t.Fatal(err)
			}
			return cfg
		}, ErrCorrupt},
		{"snapshot missing", func(t *testing.T, dir string) Config {
			cfg := bootstrapped(t, dir)
			_, snaps := dirFiles(t, dir)
			if err := os.Remove(dir + "/" + snaps[0]); err != nil {
				t.Fatal(err)
			}
			return cfg
		}, ErrCorrupt},
		{"wal lost", func(t *testing.T, dir string) Config {
			cfg := bootstrapped(t, dir)
			cfg.SnapshotEntries = 1
			n := mustOpen(t, cfg, newTestSM())
			propose(t, n, "x")
			mustClose(t, n)
			if err := os.Remove(onlySegment(t, dir)); err != nil {
				t.Fatal(err)
			}
			return cfg
		}, ErrCorrupt},
		{"snapshot damaged", func(t *testing.T, dir string) Config {
			cfg := bootstrapped(t, dir)
			cfg.SnapshotEntries = 1
			n := mustOpen(t, cfg, newTestSM())
			propose(t, n, "x")
			mustClose(t, n)
			_, snaps := dirFiles(t, dir)
			appendBytes([]byte("rot"))(t, dir+"/"+snaps[0])
			return cfg
		}, ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.prepare(t, t.TempDir())
			cfg.Logger = quietLogger()
			n, err := Open(cfg, newTestSM())
			if err == nil {
				_ = n.Close()
				t.Fatal("Open succeeded")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("Open: %v, want %v", err, tt.want)
			}
		})
	}
}

func bootstrapped(t *testing.T, dir string) Config {
	cfg := singleConfig(dir)
	mustClose(t, mustOpen(t, cfg, newTestSM()))
	return cfg
}

func TestDirLocked(t *testing.T) {
	cfg := singleConfig(t.TempDir())
	n := mustOpen(t, cfg, newTestSM())
	defer mustClose(t, n)
	if _, err := Open(cfg, newTestSM()); !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: %v, want ErrLocked", err)
	}
}

func TestProposeErrors(t *testing.T) {
	sm := newTestSM()
	n := mustOpen(t, singleConfig(t.TempDir()), sm)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := n.Propose(ctx, []byte("x")); !errors.Is(err, context.Canceled) {
		t.Fatalf("Propose with a canceled context: %v", err)
	}
	if _, err := n.Propose(context.Background(), make([]byte, MaxEntryBytes+1)); !errors.Is(err, ErrEntryTooLarge) {
		t.Fatalf("Propose too large: %v", err)
	}
	mustClose(t, n)
	mustClose(t, n) // idempotent
	if _, err := n.Propose(context.Background(), []byte("x")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Propose after Close: %v", err)
	}
	if got := n.Leader(); got != 0 {
		t.Fatalf("Leader after Close = %d", got)
	}
}

func TestApplyErrorStopsNode(t *testing.T) {
	sm := newTestSM()
	sm.failOn = "poison"
	n := mustOpen(t, singleConfig(t.TempDir()), sm)
	propose(t, n, "fine")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := n.Propose(ctx, []byte("poison")); !errors.Is(err, errTestApply) {
		t.Fatalf("Propose(poison): %v, want the apply error", err)
	}
	if _, err := n.Propose(ctx, []byte("later")); !errors.Is(err, errTestApply) {
		t.Fatalf("Propose after a fatal error: %v", err)
	}
	if err := n.Close(); !errors.Is(err, errTestApply) {
		t.Fatalf("Close: %v, want the apply error", err)
	}
}
