package storage

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/sluice-io/sluice/internal/fuzzcorpus"
	"github.com/sluice-io/sluice/internal/model"
	"github.com/sluice-io/sluice/internal/storage/storagetest"
)

// FuzzDecodeTxnEntries: a .txnindex decodes into whole entries covering a
// prefix of the file, which re-encode to exactly that prefix.
func FuzzDecodeTxnEntries(f *testing.F) {
	var two []byte
	two = encodeTxnEntry(two, AbortedTxn{ProducerID: 7, FirstOffset: 3, LastOffset: 9, LastStableOffset: 3})
	two = encodeTxnEntry(two, AbortedTxn{ProducerID: 8, FirstOffset: 12, LastOffset: 20, LastStableOffset: 10})
	fuzzcorpus.Add(f, two)
	fuzzcorpus.Add(f, two[:txnEntrySize+5])
	fuzzcorpus.Add(f, append(slices.Clone(two[:txnEntrySize]), 0, 1, 2))
	fuzzcorpus.Add(f, []byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		entries, good := decodeTxnEntries(b)
		if good < 0 || good > len(b) || good%txnEntrySize != 0 || len(entries) != good/txnEntrySize {
			t.Fatalf("%d entries covering %d of %d bytes", len(entries), good, len(b))
		}
		var again []byte
		for _, e := range entries {
			again = encodeTxnEntry(again, e)
		}
		if !bytes.Equal(again, b[:good]) {
			t.Fatal("entries do not re-encode to the bytes they came from")
		}
	})
}

// FuzzParseWrittenMark: a mark that parses holds possible values and
// round-trips through encode.
func FuzzParseWrittenMark(f *testing.F) {
	fuzzcorpus.Add(f, writtenMark{bootID: "b6f1c8e2-3d4a", base: 10, size: 4096, next: 42, offEntries: 3, timeEntries: 2}.encode())
	fuzzcorpus.Add(f, writtenMark{bootID: "x", base: 0, size: 0, next: 0}.encode())
	fuzzcorpus.Add(f, []byte("v0 boot 1 2 3 4 5 00000000\n"))
	fuzzcorpus.Add(f, []byte("v0 boot -1 2 3 4 5 1234abcd\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseWrittenMark(b)
		if err != nil {
			return
		}
		if m.base < 0 || m.size < 0 || m.next < m.base || m.offEntries < 0 || m.timeEntries < 0 {
			t.Fatalf("impossible mark accepted: %+v", m)
		}
		if again, err := parseWrittenMark(m.encode()); err != nil || again != m {
			t.Fatalf("round trip of %+v: %+v, %v", m, again, err)
		}
	})
}

// FuzzParseCleanerCheckpoint: a cleaner checkpoint that parses holds a
// non-negative offset and round-trips.
func FuzzParseCleanerCheckpoint(f *testing.F) {
	fuzzcorpus.Add(f, encodeCleanerCheckpoint(0))
	fuzzcorpus.Add(f, encodeCleanerCheckpoint(1<<40))
	fuzzcorpus.Add(f, []byte("version: 0\nclean_offset: -1\n"))
	fuzzcorpus.Add(f, []byte("version: 1\nclean_offset: 5\nfuture: x\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		off, err := parseCleanerCheckpoint(b)
		if err != nil {
			return
		}
		if off < 0 {
			t.Fatalf("negative clean offset %d accepted", off)
		}
		if again, err := parseCleanerCheckpoint(encodeCleanerCheckpoint(off)); err != nil || again != off {
			t.Fatalf("round trip of %d: %d, %v", off, again, err)
		}
	})
}

// indexEntries encodes offset index entries (relative offset, position).
func indexEntries(es ...[2]uint32) []byte {
	var b []byte
	for _, e := range es {
		b = binary.BigEndian.AppendUint32(b, e[0])
		b = binary.BigEndian.AppendUint32(b, e[1])
	}
	return b
}

// timeEntries encodes time index entries (timestamp, relative offset).
func timeEntries(es ...[2]int64) []byte {
	var b []byte
	for _, e := range es {
		b = binary.BigEndian.AppendUint64(b, uint64(e[0]))
		b = binary.BigEndian.AppendUint32(b, uint32(e[1]))
	}
	return b
}

// FuzzOpenIndexes replaces the offset and time index of one segment of a
// cleanly closed log (four segments of ten one-record batches, offset i
// stamped i) with arbitrary bytes. Open must succeed, and the log must
// still serve every record unchanged at its offset: a damaged offset
// index may cost a longer walk, never a skipped batch. A timestamp
// lookup answers a batch stamped at or after the timestamp, and the
// exact one while the time index's last entry (the segment's largest
// timestamp, which Open trusts without a scan, as Kafka does) is right.
func FuzzOpenIndexes(f *testing.F) {
	fuzzcorpus.Add(f, uint8(1), indexEntries([2]uint32{1, 200}, [2]uint32{4, 500}), timeEntries([2]int64{11, 1}, [2]int64{14, 4}))
	fuzzcorpus.Add(f, uint8(0), indexEntries([2]uint32{1, 200}, [2]uint32{4, 300}), timeEntries([2]int64{1, 1}))
	fuzzcorpus.Add(f, uint8(2), indexEntries([2]uint32{3, 200}, [2]uint32{4, 500}), timeEntries([2]int64{29, 1}, [2]int64{29, 9}))
	fuzzcorpus.Add(f, uint8(3), indexEntries([2]uint32{1, 100}), []byte{})
	fuzzcorpus.Add(f, uint8(1), []byte{1, 2, 3}, timeEntries([2]int64{-1, 0}))
	fuzzcorpus.Add(f, uint8(1), indexEntries([2]uint32{2, 100}, [2]uint32{6, 700}), timeEntries([2]int64{12, 5}, [2]int64{19, 9}))
	fuzzcorpus.Add(f, uint8(3), indexEntries([2]uint32{2, 100}), timeEntries([2]int64{31, 3}, [2]int64{34, 4}))
	cfg := testConfig()
	cfg.IndexIntervalBytes = 150
	cfg.SegmentBytes = 1000
	template := filepath.Join(f.TempDir(), "t-0")
	l, err := Create(template, model.TopicID{1}, cfg)
	if err != nil {
		f.Fatal(err)
	}
	want := make([][]byte, 35)
	for off := range model.Offset(35) {
		if _, err := l.Append(storagetest.BatchOfSize(100, int64(off)), 0); err != nil {
			f.Fatal(err)
		}
		c, err := l.Read(off, 1, true)
		if err != nil {
			f.Fatal(err)
		}
		want[off] = chunkBytes(f, c)
	}
	l.Close()
	f.Fuzz(func(t *testing.T, seg uint8, offIdx, timeIdx []byte) {
		dir := filepath.Join(t.TempDir(), "t-0")
		if err := os.CopyFS(dir, os.DirFS(template)); err != nil {
			t.Fatal(err)
		}
		base := model.Offset(seg%4) * 10
		if err := os.WriteFile(segmentName(dir, base, indexSuffix), offIdx, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(segmentName(dir, base, timeIndexSuffix), timeIdx, 0o644); err != nil {
			t.Fatal(err)
		}
		l2, err := Open(dir, cfg)
		if err != nil {
			t.Fatalf("Open with damaged indexes of segment %d: %v", base, err)
		}
		defer l2.Close()
		if l2.LogEndOffset() != 35 {
			t.Fatalf("log end %d, want 35", l2.LogEndOffset())
		}
		for off := range model.Offset(35) {
			c, err := l2.Read(off, 1, true)
			if err != nil {
				t.Fatalf("Read(%d) with damaged indexes of segment %d: %v", off, base, err)
			}
			if c.FirstOffset != off || !bytes.Equal(chunkBytes(t, c), want[off]) {
				t.Fatalf("Read(%d) with damaged indexes of segment %d: batch at %d", off, base, c.FirstOffset)
			}
		}
		last := min(base+9, 34)
		exact := len(timeIdx) >= timeEntrySize && len(timeIdx)%timeEntrySize == 0 &&
			bytes.Equal(timeIdx[len(timeIdx)-timeEntrySize:], timeEntries([2]int64{int64(last), int64(last - base)}))
		for ts := range int64(35) {
			off, batchTs, found := l2.OffsetForTimestamp(ts)
			if found && (off < 0 || off >= 35 || batchTs < ts) || exact && (!found || off != model.Offset(ts)) {
				t.Fatalf("OffsetForTimestamp(%d) with damaged indexes of segment %d: %d (stamped %d), %v", ts, base, off, batchTs, found)
			}
		}
	})
}
