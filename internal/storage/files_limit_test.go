package storage

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sluice-io/sluice/internal/model"
	"github.com/sluice-io/sluice/internal/storage/storagetest"
)

// failOpens makes every open and map of a path under dir fail with errno
// while *on is true.
func failOpens(t testing.TB, dir string, on *atomic.Bool, errno syscall.Errno) {
	t.Helper()
	h := func(op, path string) error {
		if on.Load() && strings.HasPrefix(path, dir) {
			return errno
		}
		return nil
	}
	faultHook.Store(&h)
	t.Cleanup(func() { faultHook.Store(nil) })
}

// wantExhausted checks err is a failure of the request only.
func wantExhausted(t testing.TB, what string, err error) {
	t.Helper()
	if !errors.Is(err, ErrResourceExhausted) || errors.Is(err, ErrLogFailed) {
		t.Fatalf("%s = %v, want ErrResourceExhausted and not ErrLogFailed", what, err)
	}
}

// TestExhaustionFailsTheRequestNotTheLog: with no descriptor to be had,
// an append, a read, a roll and a sync round each fail with
// ErrResourceExhausted, and once descriptors are back the same log
// serves every batch it acknowledged (before, the failed roll failed the
// log until a restart).
func TestExhaustionFailsTheRequestNotTheLog(t *testing.T) {
	for _, errno := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE} {
		t.Run(errno.Error(), func(t *testing.T) {
			j := newTestJanitor(t, time.Hour)
			cfg := janitorConfig(j, 0)
			cfg.SegmentBytes = 4 << 10
			l := newTestLog(t, cfg)
			var on atomic.Bool
			failOpens(t, l.Dir(), &on, errno)
			closeAll := func() {
				for _, s := range l.segments() {
					s.closeUnpinned()
				}
			}
			b := storagetest.Batch(1, 100, 0)
			appendBatches(t, l, 2, 1, 100, 0)
			closeAll()

			on.Store(true)
			_, err := l.Append(b, 0)
			wantExhausted(t, "Append", err)
			_, err = l.Read(0, 1<<20, true)
			wantExhausted(t, "Read", err)
			on.Store(false)

			appendBatches(t, l, 1, 1, 100, 2)
			closeAll()
			on.Store(true)
			wantExhausted(t, "WaitDurable", l.WaitDurable(context.Background(), l.LogEndOffset()))
			on.Store(false)
			if err := l.WaitDurable(context.Background(), l.LogEndOffset()); err != nil {
				t.Fatalf("WaitDurable once descriptors are back: %v", err)
			}

			big := storagetest.Batch(1, 3<<10+512, 0) // does not fit: the append rolls
			on.Store(true)
			_, err = l.Append(big, 0)
			wantExhausted(t, "Append that rolls", err)
			on.Store(false)
			if _, err := l.Append(big, 0); err != nil {
				t.Fatalf("Append that rolls, once descriptors are back: %v", err)
			}
			if n := len(l.segments()); n < 2 {
				t.Fatalf("%d segments after the roll, want 2", n)
			}
			if got := len(readAll(t, l, 0)); got != 4 {
				t.Fatalf("%d batches, want 4", got)
			}
			l2 := reopen(t, l, cfg)
			if got := len(readAll(t, l2, 0)); got != 4 {
				t.Fatalf("%d batches after a restart, want 4", got)
			}
		})
	}
}

// TestReliefClosesIdleSetsAndRetries: a process that may hold only a few
// open sets (an open fails with EMFILE past three) serves appends to
// more logs than that: each failed open closes the sets nobody uses and
// is tried again.
func TestReliefClosesIdleSetsAndRetries(t *testing.T) {
	j := newTestJanitor(t, -1) // no idle closing: only relief
	dir := t.TempDir()
	h := func(op, path string) error {
		if op == "open" && strings.HasPrefix(path, dir) && strings.HasSuffix(path, logSuffix) && j.OpenSets() >= 3 {
			return syscall.EMFILE
		}
		return nil
	}
	faultHook.Store(&h)
	t.Cleanup(func() { faultHook.Store(nil) })
	logs := make([]*Log, 8)
	for i := range logs {
		l, err := Create(filepath.Join(dir, fmt.Sprintf("t-%d", i)), model.NewTopicID(), janitorConfig(j, 0))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		logs[i] = l
	}
	for round := range 3 {
		for _, l := range logs {
			appendBatches(t, l, 1, 1, 100, int64(round))
		}
	}
	for _, l := range logs {
		if got := len(readAll(t, l, 0)); got != 3 {
			t.Fatalf("%d batches, want 3", got)
		}
	}
	if st := j.Stats(); st.ClosedPressure == 0 || st.Open > 3 {
		t.Errorf("janitor stats %+v: want sets closed under pressure and at most 3 open", st)
	}
}

// TestJanitorKeepsSetsUnderBudget: past its budget the janitor closes
// the least recently used sets.
func TestJanitorKeepsSetsUnderBudget(t *testing.T) {
	j := newTestJanitor(t, time.Hour)
	j.SetBudget(24, 1<<20) // eight sets of an active segment
	dir := t.TempDir()
	var logs []*Log
	for i := range 20 {
		l, err := Create(filepath.Join(dir, fmt.Sprintf("t-%d", i)), model.NewTopicID(), janitorConfig(j, 0))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		appendBatches(t, l, 1, 1, 100, 0)
		logs = append(logs, l)
	}
	waitFor(t, 5*time.Second, "descriptors over the budget", func() bool { return j.Stats().FDs <= 24 })
	if !logs[len(logs)-1].active().isOpen() {
		t.Error("the most recently used set was closed")
	}
	if logs[0].active().isOpen() {
		t.Error("the least recently used set is still open")
	}
}

// TestManyLogsUnderLowDescriptorLimit runs, in a child process whose
// RLIMIT_NOFILE is 48, 120 logs (360 descriptors when each kept its
// files open) through create, append, read, restart and recovery: real
// EMFILEs, each turned into relief, none into a failure.
func TestManyLogsUnderLowDescriptorLimit(t *testing.T) {
	if os.Getenv("SLUICE_STORAGE_FD_CHILD") == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestManyLogsUnderLowDescriptorLimit$", "-test.count=1")
		cmd.Env = append(os.Environ(), "SLUICE_STORAGE_FD_CHILD="+t.TempDir())
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child: %v\n%s", err, out)
		}
		return
	}
	dir := os.Getenv("SLUICE_STORAGE_FD_CHILD")
	lim := syscall.Rlimit{Cur: 48, Max: 48}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skip(err)
	}
	// Relief alone: no idle closing, no budget. No Chunk is promised
	// (file.delete.delay.ms=0), so reads never hold a set.
	j := newTestJanitor(t, time.Hour)
	j.SetBudget(1<<20, 1<<20)
	cfg := janitorConfig(j, 0)
	const n = 120
	logs := make([]*Log, n)
	for i := range logs {
		l, err := Create(filepath.Join(dir, fmt.Sprintf("t-%d", i)), model.NewTopicID(), cfg)
		if err != nil {
			t.Fatalf("Create %d: %v", i, err)
		}
		logs[i] = l
	}
	for round := range 2 {
		for _, l := range logs {
			appendBatches(t, l, 1, 1, 100, int64(round))
		}
	}
	for i, l := range logs {
		if got := len(readAll(t, l, 0)); got != 2 {
			t.Fatalf("log %d: %d batches, want 2", i, got)
		}
		if i%2 == 0 {
			l.crash() // half recover from a crash, half from a clean shutdown
		} else if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
	for i := range logs {
		l, err := Open(filepath.Join(dir, fmt.Sprintf("t-%d", i)), cfg)
		if err != nil {
			t.Fatalf("Open %d: %v", i, err)
		}
		logs[i] = l
	}
	for i, l := range logs {
		appendBatches(t, l, 1, 1, 100, 2)
		if got := len(readAll(t, l, 0)); got != 3 {
			t.Fatalf("log %d after restart: %d batches, want 3", i, got)
		}
	}
	for _, l := range logs {
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestJanitorRefusesSetsChunksHold: sets that Chunks in flight hold cannot
// close, so past one and a half budgets a new set is refused rather than
// take the descriptors the rest of the process needs; once the Chunks'
// hold passes, it opens.
func TestJanitorRefusesSetsChunksHold(t *testing.T) {
	const hold = 300 * time.Millisecond
	j := newTestJanitor(t, time.Hour)
	j.SetBudget(4, 1<<20) // six descriptors at most: a read opens the .log only
	dir := t.TempDir()
	logs := make([]*Log, 7)
	for i := range logs {
		l, err := Create(filepath.Join(dir, fmt.Sprintf("t-%d", i)), model.NewTopicID(), janitorConfig(j, hold.Milliseconds()))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		appendBatches(t, l, 1, 1, 100, 0)
		l.active().closeUnpinned()
		logs[i] = l
	}
	// Before the first Chunk: the hold of each ends at least hold after
	// this (the janitor counts whole milliseconds, so up to 1 ms less).
	read := time.Now()
	for _, l := range logs[:6] {
		if c, err := l.Read(0, 1<<20, true); err != nil || c.Empty() {
			t.Fatalf("Read: %v %v", c, err)
		}
	}
	_, err := logs[6].Read(0, 1<<20, true)
	wantExhausted(t, "Read of a seventh log while six Chunks are in flight", err)
	waitFor(t, 5*time.Second, "the seventh log never opened", func() bool {
		_, err := logs[6].Read(0, 1<<20, true)
		return err == nil
	})
	if held := time.Since(read); held < hold-time.Millisecond {
		t.Errorf("a set closed %v after its Chunk, before the %v hold", held, hold)
	}
}
