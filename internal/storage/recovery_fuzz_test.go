package storage

import (
	"path/filepath"
	"testing"

	"github.com/sluice-io/sluice/internal/model"
	"github.com/sluice-io/sluice/internal/storage/storagetest"
)

// FuzzRecoverTail appends arbitrary bytes to a crashed log's active segment:
// Open must never fail or panic, must keep every batch written before, and
// must leave a log that reads cleanly to its end.
func FuzzRecoverTail(f *testing.F) {
	good := storagetest.Build(storagetest.Spec{Records: 2, BaseOffset: 6})
	f.Add([]byte{})
	f.Add(good)
	f.Add(good[:40])
	f.Add(append(append([]byte{}, good...), 0, 0, 0))
	f.Add(make([]byte, 200))
	f.Fuzz(func(t *testing.T, tail []byte) {
		cfg := testConfig()
		dir := filepath.Join(t.TempDir(), "t-0")
		l, err := Create(dir, model.TopicID{1}, cfg)
		if err != nil {
			t.Fatal(err)
		}
		appendBatches(t, l, 3, 2, 10, 0)
		l.crash()
		appendFile(t, segmentName(dir, 0, logSuffix), tail)
		l2, err := Open(dir, cfg)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		defer l2.Close()
		if l2.LogEndOffset() < 6 {
			t.Fatalf("LogEndOffset %d lost written batches", l2.LogEndOffset())
		}
		readAll(t, l2, 0)
	})
}
