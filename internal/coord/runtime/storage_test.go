package runtime_test

import (
	"context"
	"maps"
	"path/filepath"
	"slices"
	"testing"

	"github.com/sluice-io/sluice/internal/coord/runtime"
	"github.com/sluice-io/sluice/internal/model"
	"github.com/sluice-io/sluice/internal/storage"
)

// storageLog adapts a real partition log, as the coordinators' adapters
// over replica.Partition do.
type storageLog struct{ *storage.Log }

func (l storageLog) Append(b []byte) (model.Offset, error) { return l.Log.Append(b, 0) }

// WaitCommitted is the fsync: the log alone is its ISR.
func (l storageLog) WaitCommitted(ctx context.Context, end model.Offset) error {
	return l.WaitDurable(ctx, end)
}

func (l storageLog) ReadBatches(dst []byte, from model.Offset, maxBytes int) ([]byte, error) {
	c, err := l.Read(from, int32(maxBytes), true)
	if err != nil || c.Empty() {
		return dst, err
	}
	n := len(dst)
	dst = slices.Grow(dst, int(c.Size))[:n+int(c.Size)]
	_, err = c.ReadAt(dst[n:], 0)
	return dst, err
}

// TestReplayOverStorage writes through a shard into a real segmented log,
// reopens the log from disk and replays it into an equal state.
func TestReplayOverStorage(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "__consumer_offsets-0")
	cfg := storage.DefaultConfig()
	cfg.SegmentBytes = 4096 // several segments
	lg, err := storage.Create(dir, model.NewTopicID(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	m := newKV()
	s, err := runtime.Load(context.Background(), storageLog{lg}, m, runtime.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 300 {
		k := string(rune('a' + i%26))
		if err := put(s, k, string(rune('A'+i%7)), "other-"+k, ""); err != nil {
			t.Fatal(err)
		}
	}
	want := maps.Clone(m.m)
	s.Close()
	if err := lg.Close(); err != nil {
		t.Fatal(err)
	}
	lg, err = storage.Open(dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer lg.Close()
	m2 := newKV()
	s2, err := runtime.Load(context.Background(), storageLog{lg}, m2, runtime.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if !maps.Equal(m2.m, want) || len(want) != 26 {
		t.Fatalf("replayed %v, want %v", m2.m, want)
	}
}
