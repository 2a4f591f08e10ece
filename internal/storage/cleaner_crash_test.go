package storage

import (
	"bytes"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/sluice-io/sluice/internal/model"
)

var errSimulatedCrash = errors.New("simulated crash")

// TestCleanInterruptedSwapRecovers stops a pass at each step of the swap
// of its first group, as a kill -9 would, and opens the directory again:
// Open rolls back a swap that was not committed and completes one that
// was, and the log is consistent either way, its transaction index
// included: the first group holds an aborted transaction whose marker
// the pass keeps with its entry, and an ABORT marker without data whose
// entry the pass does not carry over.
func TestCleanInterruptedSwapRecovers(t *testing.T) {
	for _, tc := range []struct {
		name      string
		step      cleanStep
		leftovers []string // suffixes on disk after the crash
		completes bool
	}{
		{"cleaned written", stepCleaned, []string{".log.cleaned", ".index.cleaned", ".timeindex.cleaned", ".txnindex.cleaned", ".txnindex"}, false},
		{"swap committed", stepSwapped, []string{".log.swap", ".index.swap", ".timeindex.swap", ".txnindex.swap", ".txnindex"}, true},
		{"old segments renamed", stepOldDeleted, []string{".log.swap", ".log.deleted", ".txnindex.swap", ".txnindex.deleted"}, true},
		{"transaction index installed", stepTxnIndexInstalled, []string{".log.swap", ".log.deleted", ".txnindex"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := compactConfig()
			l := newTestLog(t, cfg)
			tw := newTxnWriter(t, l, t0)
			tw.txn(7, kv{[]byte("aborted-1"), []byte("x")}, kv{[]byte("aborted-2"), []byte("x")})
			kept := tw.end(7, false)
			tw.open[8] = 0 // an entry for a marker whose transaction has no data
			empty := tw.end(8, false)
			w := &workload{keys: 100, updates: 8000, perBatch: 10, tombEvery: 50}
			w.write(t, l)
			rollNow(t, l)
			end := l.LogEndOffset()
			before, _ := readRecords(t, l)
			firstBase := l.segments()[0].base
			l.cleaner.hook = func(s cleanStep) error {
				if s == tc.step {
					return errSimulatedCrash
				}
				return nil
			}
			if _, err := l.Clean(t0); !errors.Is(err, errSimulatedCrash) {
				t.Fatalf("Clean = %v, want the simulated crash", err)
			}
			for _, suf := range tc.leftovers {
				if _, err := os.Stat(segmentName(l.Dir(), firstBase, suf)); err != nil {
					t.Errorf("after the crash: %v", err)
				}
			}
			l2 := crashAndOpen(t, l, cfg)
			checkNoLeftovers(t, l2.Dir())
			after, _ := readRecords(t, l2)
			checkSubsetWithLatest(t, before, after, w.model)
			if shrank := len(after) < len(before); shrank != tc.completes {
				t.Errorf("%d records before, %d after: completed = %v, want %v", len(before), len(after), shrank, tc.completes)
			}
			want := []model.Offset{kept, empty}
			if tc.completes {
				want = want[:1]
			}
			entries, err := l2.AbortedTxns(0, l2.LogEndOffset())
			if err != nil {
				t.Fatal(err)
			}
			var got []model.Offset
			for _, e := range entries {
				got = append(got, e.LastOffset)
			}
			if !slices.Equal(got, want) {
				t.Errorf("aborted transactions' markers %v after recovery, want %v", got, want)
			}
			if st := mustClean(t, l2, t0); !st.Cleaned {
				t.Fatalf("pass after recovery: %+v", st)
			}
			checkCompacted(t, consume(t, l2, l2.LogEndOffset(), false), w.model, end, true)
		})
	}
}

// checkNoLeftovers fails when a transient file is left in dir.
func checkNoLeftovers(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		for _, suf := range []string{cleanedSuffix, swapSuffix, deletedSuffix} {
			if strings.HasSuffix(e.Name(), suf) {
				t.Errorf("leftover %s", e.Name())
			}
		}
	}
}

// checkSubsetWithLatest checks that every record in after is the record
// written at that offset, and that the latest write of every key is there.
func checkSubsetWithLatest(t *testing.T, before, after []rec, m map[string]latest) {
	t.Helper()
	orig := make(map[model.Offset]rec, len(before))
	for _, r := range before {
		orig[r.off] = r
	}
	seen := map[string]bool{}
	for _, r := range after {
		o, ok := orig[r.off]
		if !ok || !bytes.Equal(o.key, r.key) || !bytes.Equal(o.value, r.value) || o.ts != r.ts {
			t.Fatalf("record at %d is not the one written there", r.off)
		}
		if m[string(r.key)].off == r.off {
			seen[string(r.key)] = true
		}
	}
	for k := range m {
		if !seen[k] {
			t.Fatalf("latest record of %q (offset %d) lost", k, m[k].off)
		}
	}
}

func TestCompleteSwapReplacesOverlappingSegments(t *testing.T) {
	cfg := compactConfig()
	cfg.MinCleanableDirtyRatio = 0
	l := newTestLog(t, cfg)
	w := &workload{keys: 5, updates: 3000, perBatch: 5}
	w.write(t, l)
	rollNow(t, l)
	if len(l.segments()) < 3 {
		t.Fatalf("%d segments, want several", len(l.segments()))
	}
	// An empty swap (all records of the group dropped) still replaces the
	// segment with its base.
	base := l.segments()[0].base
	dir := l.Dir()
	l.crash()
	if err := os.WriteFile(segmentName(dir, base, logSuffix+swapSuffix), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	l2, err := Open(dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	if s := l2.segments()[0]; s.base != base || s.size.Load() != 0 {
		t.Errorf("first segment %d of %d bytes, want the empty swap at %d", s.base, s.size.Load(), base)
	}
	checkNoLeftovers(t, dir)
}
