package storage

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/sluice-io/sluice/internal/batch"
	"github.com/sluice-io/sluice/internal/model"
)

// t0 is the timestamp of the first record the cleaner tests write.
const t0 = int64(1_700_000_000_000)

const dayMs = 24 * 60 * 60 * 1000

var allCodecs = []int{batch.CodecNone, batch.CodecGzip, batch.CodecSnappy, batch.CodecLZ4, batch.CodecZstd}

// compactConfig is testConfig with cleanup.policy=compact and small
// segments.
func compactConfig() Config {
	c := testConfig()
	c.CleanupPolicy = "compact"
	c.SegmentBytes = 64 << 10
	return c
}

// kv is a record to write: a nil value is a tombstone, a nil key is a
// keyless record.
type kv struct{ key, value []byte }

func keyOf(i int) []byte { return fmt.Appendf(nil, "key-%05d", i) }

// buildKV builds one batch of recs with the header fields of info; record
// i gets timestamp ts.
func buildKV(t testing.TB, info batch.BatchInfo, ts int64, recs []kv) []byte {
	t.Helper()
	bld := batch.NewBuilder(info)
	for _, r := range recs {
		if err := bld.Add(&batch.Record{Timestamp: ts, Key: r.key, Value: r.value}); err != nil {
			t.Fatal(err)
		}
	}
	b, err := bld.Build(nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// appendKV appends one batch of recs and returns its base offset.
func appendKV(t testing.TB, l *Log, codec int, ts int64, recs ...kv) model.Offset {
	t.Helper()
	base, err := l.Append(buildKV(t, batch.NewBatchInfo(codec), ts, recs), 0)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	return base
}

// latest is what a key's last write was.
type latest struct {
	off   model.Offset
	value []byte // nil: a tombstone
}

// workload is a run of updates over a key space and what it left.
type workload struct {
	keys, updates, perBatch int
	tombEvery               int // every n-th update is a tombstone (0: none)
	codecs                  []int
	model                   map[string]latest
	codecAt                 map[model.Offset]int // batch base -> codec
	lastTs                  int64
}

// write appends the workload's updates: random keys, values naming the
// update, batch i at timestamp t0+i.
func (w *workload) write(t testing.TB, l *Log) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, uint64(w.keys)))
	w.model, w.codecAt = map[string]latest{}, map[model.Offset]int{}
	if len(w.codecs) == 0 {
		w.codecs = []int{batch.CodecNone}
	}
	recs := make([]kv, 0, w.perBatch)
	for i, n := 0, 0; n < w.updates; i++ {
		recs = recs[:0]
		for ; len(recs) < w.perBatch && n < w.updates; n++ {
			r := kv{key: keyOf(rng.IntN(w.keys)), value: fmt.Appendf(nil, "v%d", n)}
			if w.tombEvery > 0 && n%w.tombEvery == w.tombEvery-1 {
				r.value = nil
			}
			recs = append(recs, r)
		}
		codec := w.codecs[i%len(w.codecs)]
		w.lastTs = t0 + int64(i)
		base := appendKV(t, l, codec, w.lastTs, recs...)
		w.codecAt[base] = codec
		for j, r := range recs {
			w.model[string(r.key)] = latest{base + model.Offset(j), r.value}
		}
	}
}

// rec is one record read back, with its batch.
type rec struct {
	off, batchBase model.Offset
	ts             int64
	key, value     []byte
	codec          int
}

// readRecords reads the whole log from its start through Read, checking
// each batch's CRC and that offsets increase, and returns every record and
// the batch headers (copied).
func readRecords(t testing.TB, l *Log) ([]rec, []batch.Header) {
	t.Helper()
	var recs []rec
	var hs []batch.Header
	next := l.LogStartOffset()
	for next < l.LogEndOffset() {
		c, err := l.Read(next, 1<<20, true)
		if err != nil {
			t.Fatalf("Read(%d): %v", next, err)
		}
		if c.Empty() {
			t.Fatalf("Read(%d) empty before log end %d", next, l.LogEndOffset())
		}
		data := chunkBytes(t, c)
		for _, h := range splitBatches(t, data) {
			if model.Offset(h.LastOffset()) < next {
				t.Fatalf("batch [%d,%d] before offset %d", h.BaseOffset(), h.LastOffset(), next)
			}
			b := bytes.Clone(h[:h.Size()])
			hs = append(hs, batch.Header(b))
			err := batch.Records(b, func(r *batch.Record) error {
				recs = append(recs, rec{off: model.Offset(r.Offset), batchBase: model.Offset(h.BaseOffset()), ts: r.Timestamp,
					key: bytes.Clone(r.Key), value: bytes.Clone(r.Value), codec: h.Codec()})
				return nil
			})
			if err != nil {
				t.Fatalf("records of batch %d: %v", h.BaseOffset(), err)
			}
			next = model.Offset(h.NextOffset())
		}
	}
	for i := 1; i < len(recs); i++ {
		if recs[i].off <= recs[i-1].off {
			t.Fatalf("record offsets go back: %d after %d", recs[i].off, recs[i-1].off)
		}
	}
	return recs, hs
}

// checkCompacted checks that the records below end hold exactly the
// latest write of every key of m whose latest write lies below end, at its
// original offset; tombstones are present or not as wantTombstones says.
func checkCompacted(t testing.TB, recs []rec, m map[string]latest, end model.Offset, wantTombstones bool) {
	t.Helper()
	seen := map[string]bool{}
	for _, r := range recs {
		if r.off >= end {
			continue
		}
		k := string(r.key)
		want, ok := m[k]
		switch {
		case r.key == nil:
			t.Fatalf("keyless record at %d survived", r.off)
		case !ok || seen[k]:
			t.Fatalf("record %q at %d: unknown or duplicate key", k, r.off)
		case want.off != r.off || !bytes.Equal(want.value, r.value) || (want.value == nil) != (r.value == nil):
			t.Fatalf("key %q: got offset %d value %q, want offset %d value %q", k, r.off, r.value, want.off, want.value)
		case r.value == nil && !wantTombstones:
			t.Fatalf("tombstone of %q at %d survived", k, r.off)
		}
		seen[k] = true
	}
	for k, want := range m {
		if want.off < end && !seen[k] && (want.value != nil || wantTombstones) {
			t.Fatalf("key %q (latest at %d) is missing", k, want.off)
		}
	}
}

// rollNow closes the active segment (a time roll far in the future) so
// everything written so far becomes cleanable.
func rollNow(t testing.TB, l *Log) {
	t.Helper()
	if err := l.MaybeRoll(t0 + 3650*dayMs); err != nil {
		t.Fatal(err)
	}
}

// activeBytes returns the active segment's base and content.
func activeBytes(t testing.TB, l *Log) (model.Offset, []byte) {
	t.Helper()
	segs := l.segments()
	s := segs[len(segs)-1]
	b, err := os.ReadFile(segmentName(s.dir, s.base, logSuffix))
	if err != nil {
		t.Fatal(err)
	}
	return s.base, b[:s.size.Load()]
}

// mustClean runs Clean and fails on error.
func mustClean(t testing.TB, l *Log, nowMs int64) CleanStats {
	t.Helper()
	st, err := l.Clean(nowMs)
	if err != nil {
		t.Fatalf("Clean: %v", err)
	}
	return st
}
