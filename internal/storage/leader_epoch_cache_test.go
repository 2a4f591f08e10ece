package storage

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/sluice-io/sluice/internal/model"
	"github.com/sluice-io/sluice/internal/storage/storagetest"
)

func TestLeaderEpochCacheAssign(t *testing.T) {
	tests := []struct {
		name    string
		assigns []EpochEntry
		want    []EpochEntry
	}{
		{"increasing", []EpochEntry{{0, 0}, {1, 10}, {3, 25}}, []EpochEntry{{0, 0}, {1, 10}, {3, 25}}},
		{"same epoch later offset ignored", []EpochEntry{{1, 10}, {1, 20}}, []EpochEntry{{1, 10}}},
		{"same epoch earlier offset replaces", []EpochEntry{{1, 10}, {1, 5}}, []EpochEntry{{1, 5}}},
		{"lower epoch truncates", []EpochEntry{{0, 0}, {2, 10}, {1, 20}}, []EpochEntry{{0, 0}, {1, 20}}},
		{"offset going back truncates", []EpochEntry{{0, 0}, {1, 10}, {2, 5}}, []EpochEntry{{0, 0}, {2, 5}}},
		{"negative ignored", []EpochEntry{{-1, 0}, {1, -1}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c leaderEpochCache
			for _, e := range tt.assigns {
				c.assign(e.Epoch, e.StartOffset)
			}
			if !slices.Equal(c.entries, tt.want) {
				t.Errorf("entries = %v, want %v", c.entries, tt.want)
			}
		})
	}
}

func TestLeaderEpochCacheEndOffsetFor(t *testing.T) {
	c := leaderEpochCache{entries: []EpochEntry{{1, 10}, {3, 25}, {6, 40}}}
	const leo = 55
	tests := []struct {
		epoch     model.LeaderEpoch
		wantEpoch model.LeaderEpoch
		wantOff   model.Offset
	}{
		{UndefinedEpoch, UndefinedEpoch, UndefinedEpochOffset},
		{0, 0, 10}, // below every epoch: the first start offset
		{1, 1, 25}, // ends where epoch 3 starts
		{2, 1, 25}, // unknown epoch between: the floor epoch
		{3, 3, 40},
		{5, 3, 40},
		{6, 6, leo}, // the latest: the log end
		{7, UndefinedEpoch, UndefinedEpochOffset},
	}
	for _, tt := range tests {
		e, off := c.endOffsetFor(tt.epoch, leo)
		if e != tt.wantEpoch || off != tt.wantOff {
			t.Errorf("endOffsetFor(%d) = %d, %d; want %d, %d", tt.epoch, e, off, tt.wantEpoch, tt.wantOff)
		}
	}
}

func TestLeaderEpochCacheTruncation(t *testing.T) {
	base := []EpochEntry{{1, 10}, {3, 25}, {6, 40}}
	tests := []struct {
		name string
		op   func(c *leaderEpochCache)
		want []EpochEntry
	}{
		{"end above all", func(c *leaderEpochCache) { c.truncateFromEnd(50) }, base},
		{"end at a start", func(c *leaderEpochCache) { c.truncateFromEnd(25) }, []EpochEntry{{1, 10}}},
		{"end inside", func(c *leaderEpochCache) { c.truncateFromEnd(30) }, []EpochEntry{{1, 10}, {3, 25}}},
		{"start below all", func(c *leaderEpochCache) { c.truncateFromStart(5) }, base},
		{"start inside", func(c *leaderEpochCache) { c.truncateFromStart(30) }, []EpochEntry{{3, 30}, {6, 40}}},
		{"start at a start", func(c *leaderEpochCache) { c.truncateFromStart(40) }, []EpochEntry{{6, 40}}},
		{"start past all", func(c *leaderEpochCache) { c.truncateFromStart(70) }, []EpochEntry{{6, 70}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := leaderEpochCache{entries: slices.Clone(base)}
			tt.op(&c)
			if !slices.Equal(c.entries, tt.want) {
				t.Errorf("entries = %v, want %v", c.entries, tt.want)
			}
		})
	}
}

func TestLeaderEpochsPersisted(t *testing.T) {
	cfg := testConfig()
	l := newTestLog(t, cfg)
	l.Append(storagetest.Batch(3, 10, 0), 0)
	l.Append(storagetest.Batch(2, 10, 0), 0)
	l.Append(storagetest.Batch(2, 10, 0), 2) // new epoch from a batch
	if err := l.AssignEpoch(5, 7); err != nil {
		t.Fatal(err)
	}
	l.Append(storagetest.Batch(2, 10, 0), 5) // same epoch: no new entry
	want := []EpochEntry{{0, 0}, {2, 5}, {5, 7}}
	b, _ := os.ReadFile(filepath.Join(l.Dir(), leaderEpochCheckpointName))
	if string(b) != "0\n3\n0 0\n2 5\n5 7\n" {
		t.Errorf("leader-epoch-checkpoint = %q", b)
	}
	l2 := crashAndOpen(t, l, cfg)
	if got := l2.LeaderEpochs(); !slices.Equal(got, want) {
		t.Errorf("after crash: %v, want %v", got, want)
	}
	// As in Kafka, an epoch with no batch yet does not survive a restart
	// (truncateFromEnd at the log end); the leader assigns it again.
	l2.AssignEpoch(6, 9)
	l3 := reopen(t, l2, cfg)
	if got := l3.LeaderEpochs(); !slices.Equal(got, want) {
		t.Errorf("epoch without data after reopen: %v, want %v", got, want)
	}
	if e, off := l2.EndOffsetForEpoch(2); e != 2 || off != 7 {
		t.Errorf("EndOffsetForEpoch(2) = %d, %d", e, off)
	}
	if e, off := l2.EndOffsetForEpoch(5); e != 5 || off != 9 {
		t.Errorf("EndOffsetForEpoch(5) = %d, %d", e, off)
	}
}
