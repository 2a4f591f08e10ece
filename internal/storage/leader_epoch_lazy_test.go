package storage

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/sluice-io/sluice/internal/model"
	"github.com/sluice-io/sluice/internal/storage/storagetest"
)

// TestEpochCheckpointSyncedByRound: the append that opens a leader epoch
// replaces leader-epoch-checkpoint without fsync, and the group-commit
// round that makes the batch durable fsyncs it.
func TestEpochCheckpointSyncedByRound(t *testing.T) {
	tests := []struct {
		name       string
		epochs     []model.LeaderEpoch // one batch each
		wantSynced int                 // checkpoint fsyncs by the round
	}{
		{"new epoch", []model.LeaderEpoch{3}, 1},
		{"same epoch as the last batch", []model.LeaderEpoch{0}, 0},
		{"two new epochs, one round", []model.LeaderEpoch{1, 2}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newTestLog(t, testConfig())
			// Epoch 0 starts with a first, durable batch.
			base, err := l.Append(storagetest.Batch(1, 10, 0), 0)
			if err == nil {
				err = l.WaitDurable(context.Background(), base+1)
			}
			if err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex
			synced := map[string]int{}
			var fsyncsAtAppend int
			l.fsync = func(f *os.File) error {
				mu.Lock()
				synced[filepath.Base(f.Name())]++
				mu.Unlock()
				return fdatasync(f)
			}
			var end model.Offset
			for _, e := range tt.epochs {
				base, err := l.Append(storagetest.Batch(1, 10, 0), e)
				if err != nil {
					t.Fatal(err)
				}
				end = base + 1
			}
			mu.Lock()
			fsyncsAtAppend = len(synced)
			mu.Unlock()
			if fsyncsAtAppend != 0 {
				t.Errorf("appends fsynced %v, want nothing before WaitDurable", synced)
			}
			b, err := os.ReadFile(filepath.Join(l.Dir(), leaderEpochCheckpointName))
			if err != nil {
				t.Fatal(err)
			}
			if want := string(l.epochs.encode()); string(b) != want {
				t.Errorf("checkpoint after append = %q, want %q", b, want)
			}
			if err := l.WaitDurable(context.Background(), end); err != nil {
				t.Fatal(err)
			}
			if got := synced[leaderEpochCheckpointName]; got != tt.wantSynced {
				t.Errorf("checkpoint fsynced %d times by the round, want %d", got, tt.wantSynced)
			}
			l.mu.Lock()
			dirty := l.epochsDirty
			l.mu.Unlock()
			if dirty {
				t.Error("epochsDirty still set after the round")
			}
		})
	}
}
