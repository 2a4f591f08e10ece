package replica

import (
	"encoding/binary"
	"errors"
	"path/filepath"
	"testing"

	"github.com/sluice-io/sluice/internal/batch"
	"github.com/sluice-io/sluice/internal/storage"
)

// produced builds a batch as a plain producer sends it, with records
// stamped at the given timestamps.
func produced(t testing.TB, codec int, ts ...int64) []byte {
	t.Helper()
	bld := batch.NewBuilder(batch.NewBatchInfo(codec))
	for i, s := range ts {
		if err := bld.Add(&batch.Record{Timestamp: s, Key: []byte{'k', byte('0' + i)}, Value: []byte("some value")}); err != nil {
			t.Fatal(err)
		}
	}
	b, err := bld.Build(nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// reframe gives b the record count count (lastOffsetDelta to match) and
// payload as its records, then a fresh length and CRC: a batch whose
// header is consistent and whose contents lie.
func reframe(b []byte, count int32, payload []byte) []byte {
	out := append(append([]byte{}, b[:batch.HeaderSize]...), payload...)
	binary.BigEndian.PutUint32(out[8:], uint32(len(out)-batch.LogOverhead))
	binary.BigEndian.PutUint32(out[23:], uint32(count-1))
	binary.BigEndian.PutUint32(out[57:], uint32(count))
	binary.BigEndian.PutUint32(out[17:], batch.ComputeCRC(out))
	return out
}

// TestAppendValidatesRecords: the batches of issue 13 (defect 3) that
// were appended, and consumers then choked on, are refused with Kafka's
// error, and nothing is appended; a good batch follows.
func TestAppendValidatesRecords(t *testing.T) {
	const hour = 3_600_000
	now := testNow
	three := produced(t, batch.CodecNone, now, now, now)
	tests := []struct {
		name  string
		b     []byte
		codec int // the topic's compression.type, -1 for producer
		want  error
	}{
		{"gzip batch with a garbage payload", reframe(produced(t, batch.CodecGzip, now), 1, []byte("definitely not a gzip stream")), -1, batch.ErrDecompress},
		{"garbage payload, topic recompresses", reframe(produced(t, batch.CodecLZ4, now), 1, []byte("definitely not an lz4 frame")), batch.CodecZstd, batch.ErrDecompress},
		{"header counts 5, holds 3", reframe(three, 5, three[batch.HeaderSize:]), -1, batch.ErrInvalid},
		{"header counts 2, holds 3", reframe(three, 2, three[batch.HeaderSize:]), -1, batch.ErrInvalid},
		{"a record stamped 1970 in a batch stamped now", produced(t, batch.CodecNone, now, 1000, now), -1, batch.ErrInvalidTimestamp},
		{"compressed, a record stamped 1970", produced(t, batch.CodecZstd, now, 1000), -1, batch.ErrInvalidTimestamp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testPartitionConfig()
			cfg.TimestampBeforeMaxMs, cfg.TimestampAfterMaxMs, cfg.Codec = hour, hour, tt.codec
			p := openPartition(t, filepath.Join(t.TempDir(), "t-0"), cfg)
			if _, err := batch.Validate(tt.b); err != nil {
				t.Fatalf("the bad batch must pass the header checks: %v", err)
			}
			if _, _, err := p.AppendHeld(tt.b, now, AppendOptions{}); !errors.Is(err, tt.want) {
				t.Fatalf("AppendHeld = %v, want %v", err, tt.want)
			}
			if hw := p.HighWatermark(); hw != 0 {
				t.Fatalf("high watermark %d after a refused batch, want 0", hw)
			}
			if _, _, err := p.AppendHeld(produced(t, batch.CodecGzip, now, now), now, AppendOptions{}); err != nil {
				t.Fatalf("good batch after a refused one: %v", err)
			}
			if hw := p.HighWatermark(); hw != 2 {
				t.Fatalf("high watermark %d, want 2", hw)
			}
		})
	}
}

// TestAppendRefusesKeylessRecords: a compacted topic needs a key on every
// record, compressed or not (Kafka: INVALID_RECORD, record_errors).
func TestAppendRefusesKeylessRecords(t *testing.T) {
	cfg := testPartitionConfig()
	cfg.Storage.CleanupPolicy = "compact"
	p := openPartition(t, filepath.Join(t.TempDir(), "t-0"), cfg)
	for _, codec := range []int{batch.CodecNone, batch.CodecSnappy} {
		bld := batch.NewBuilder(batch.NewBatchInfo(codec))
		_ = bld.Add(&batch.Record{Timestamp: testNow, Key: []byte("k")})
		_ = bld.Add(&batch.Record{Timestamp: testNow})
		b, _ := bld.Build(nil)
		_, _, err := p.AppendHeld(b, testNow, AppendOptions{})
		var re *batch.RecordsError
		if !errors.Is(err, batch.ErrInvalid) || !errors.As(err, &re) || len(re.Records) != 1 || re.Records[0].Index != 1 {
			t.Fatalf("codec %d: AppendHeld = %v, want record 1 refused", codec, err)
		}
	}
	if !storage.RequiresKeys(cfg.Storage) || p.HighWatermark() != 0 {
		t.Fatalf("high watermark %d", p.HighWatermark())
	}
}

// TestAppendWritesMaxTimestamp: under CreateTime the stored batch's max
// timestamp is its records' largest, as Kafka's validator writes it, and
// the CRC still checks; under LogAppendTime the broker's clock.
func TestAppendWritesMaxTimestamp(t *testing.T) {
	for _, lat := range []bool{false, true} {
		cfg := testPartitionConfig()
		cfg.LogAppendTime = lat
		cfg.Codec = batch.CodecLZ4 // recompressed from gzip
		p := openPartition(t, filepath.Join(t.TempDir(), "t-0"), cfg)
		b := produced(t, batch.CodecGzip, testNow-5, testNow-1, testNow-9)
		binary.BigEndian.PutUint64(b[35:], uint64(testNow-100)) // the producer's max timestamp is wrong
		binary.BigEndian.PutUint32(b[17:], batch.ComputeCRC(b))
		if _, _, err := p.AppendHeld(b, testNow, AppendOptions{}); err != nil {
			t.Fatal(err)
		}
		chunk, err := p.Read(0, 1<<20, true)
		if err != nil {
			t.Fatal(err)
		}
		stored := chunkBytes(t, chunk)
		h, err := batch.Validate(stored)
		want := testNow - 1
		if lat {
			want = testNow
		}
		if err != nil || h.MaxTimestamp() != want || h.LogAppendTime() != lat || h.Codec() != batch.CodecLZ4 {
			t.Fatalf("LogAppendTime %v: stored max timestamp %d (LogAppendTime %v, codec %d), %v; want %d", lat, h.MaxTimestamp(), h.LogAppendTime(), h.Codec(), err, want)
		}
	}
}

func chunkBytes(t testing.TB, c storage.Chunk) []byte {
	t.Helper()
	b := make([]byte, c.Size)
	if _, err := c.ReadAt(b, 0); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAppendHeldAllocs: checking every record costs the produce path no
// allocation (DESIGN.md §4), uncompressed or compressed with the topic's
// codec. Under the race detector sync.Pool drops items, so only the
// uncompressed path, which uses no pool, is held to it there.
func TestAppendHeldAllocs(t *testing.T) {
	for _, codec := range []int{batch.CodecNone, batch.CodecLZ4, batch.CodecZstd} {
		if raceEnabled && codec != batch.CodecNone {
			continue
		}
		cfg := testPartitionConfig()
		cfg.TimestampBeforeMaxMs, cfg.TimestampAfterMaxMs = 3_600_000, 3_600_000
		p := openPartition(t, filepath.Join(t.TempDir(), "t-0"), cfg)
		b := produced(t, codec, testNow, testNow+1, testNow+2)
		allocs := testing.AllocsPerRun(200, func() {
			batch.SetBaseOffset(b, 0)
			if _, _, err := p.AppendHeld(b, testNow, AppendOptions{}); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("codec %d: AppendHeld makes %v allocations, want 0", codec, allocs)
		}
	}
}
