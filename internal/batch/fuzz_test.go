package batch

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/snappy/xerial"
)

var updateCorpus = flag.Bool("update-corpus", false, "rewrite the seed corpus in testdata/fuzz")

// fuzzMax bounds decompression in the fuzzers so that memory stays small.
const fuzzMax = 1 << 20

// FuzzValidate: Validate and ScanStored never panic, ScanStored never
// claims more than it was given, and whatever Validate accepts ScanStored
// accepts whole as one batch. fixCRC rewrites the CRC first so that the
// fuzzer gets past it to the checks behind it.
func FuzzValidate(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte, fixCRC bool) {
		if fixCRC && len(b) >= HeaderSize {
			recrc(b)
		}
		h, verr := Validate(b)
		if verr != nil && !errors.Is(verr, ErrCorrupt) && !errors.Is(verr, ErrInvalid) && !errors.Is(verr, ErrMagic) {
			t.Fatalf("Validate error wraps no sentinel: %v", verr)
		}
		n := 0
		good, err := ScanStored(b, func(h Header) error {
			if h.Size() < HeaderSize || h.Size() > len(b) || ComputeCRC(h) != h.CRC() {
				t.Fatalf("ScanStored passed a bad batch of %d bytes", h.Size())
			}
			n++
			return nil
		})
		if err != nil || good < 0 || good > len(b) {
			t.Fatalf("ScanStored = %d, %v for %d bytes", good, err, len(b))
		}
		if verr == nil {
			if good != len(b) || n != 1 || h.Size() != len(b) {
				t.Fatalf("Validate accepted %d bytes, ScanStored kept %d in %d batches", len(b), good, n)
			}
		}
	})
}

// FuzzRecords: record iteration and ValidateRecords never panic, stay
// within the decompression bound, and agree with each other. fixCRC as in
// FuzzValidate, so that ValidateRecords and Recompress get explored.
func FuzzRecords(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte, fixCRC bool) {
		if fixCRC && len(b) >= HeaderSize {
			recrc(b)
		}
		r := Reader{MaxUncompressed: fuzzMax}
		count := 0
		bld := NewBuilder(NewBatchInfo(CodecNone))
		rebuild := len(b) >= HeaderSize
		if rebuild {
			bld.Reset(BatchInfo{BaseOffset: Header(b).BaseOffset(), BaseTimestamp: Header(b).FirstTimestamp()})
		}
		err := r.Records(b, func(rec *Record) error {
			count++
			if rebuild && bld.AddAt(rec) != nil {
				rebuild = false // offsets out of order: cannot be rebuilt
			}
			return nil
		})
		if cap(r.buf) > 4*fuzzMax {
			t.Fatalf("decompression buffer grew to %d bytes", cap(r.buf))
		}
		if err == nil && count != int(Header(b).RecordCount()) {
			t.Fatalf("Records saw %d records, header says %d", count, Header(b).RecordCount())
		}
		if err == nil && rebuild && count > 0 && !Header(b).LogAppendTime() {
			checkRebuilt(t, b, bld)
		}
		verr := ValidateRecords(b, fuzzMax)
		if verr == nil && err != nil {
			t.Fatalf("ValidateRecords accepted what Records refused: %v", err)
		}
		if verr != nil {
			return
		}
		// A valid batch re-encodes to a valid batch.
		out, rerr := Recompress(b, CodecNone, nil, fuzzMax)
		if rerr != nil {
			t.Fatalf("Recompress of a valid batch: %v", rerr)
		}
		if err := ValidateRecords(out, fuzzMax); err != nil {
			t.Fatalf("recompressed batch: %v", err)
		}
	})
}

// FuzzCheckRecords: the produce check never panics, stays within the
// decompression bound, wraps a sentinel, agrees with record iteration
// (what it accepts iterates to the counted records at offsets base+0,
// base+1, ... with the max timestamp it reports; what iterates so is
// accepted), and topic rules only ever refuse more, naming refused records
// within the batch. fixCRC as in FuzzValidate.
func FuzzCheckRecords(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte, fixCRC bool) {
		if fixCRC && len(b) >= HeaderSize {
			recrc(b)
		}
		if _, err := Validate(b); err != nil {
			return // CheckRecords requires a validated batch
		}
		h := Header(b)
		c, err := CheckRecords(b, fuzzMax, nil)
		if c.r != nil && cap(c.r.buf) > 4*fuzzMax {
			t.Fatalf("decompression buffer grew to %d bytes", cap(c.r.buf))
		}
		c.Release()
		if err != nil && !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrDecompress) && !errors.Is(err, ErrTooLarge) {
			t.Fatalf("CheckRecords error wraps no sentinel: %v", err)
		}
		i, maxTS, seq := int64(0), int64(-1), true
		rd := Reader{MaxUncompressed: fuzzMax}
		rerr := rd.Records(b, func(r *Record) error {
			seq = seq && r.Offset == h.BaseOffset()+i
			maxTS = max(maxTS, r.Timestamp)
			i++
			return nil
		})
		switch {
		case err == nil && (rerr != nil || !seq || i != int64(h.RecordCount()) || maxTS != c.MaxTimestamp):
			t.Fatalf("CheckRecords accepted a batch that iterates to %d records (in sequence %v, max ts %d vs %d): %v",
				i, seq, maxTS, c.MaxTimestamp, rerr)
		case err != nil && rerr == nil && seq && !errors.Is(err, ErrDecompress):
			t.Fatalf("CheckRecords refused a batch that iterates fine: %v", err)
		}
		now := h.FirstTimestamp()
		for _, rules := range []ProduceRules{
			{NowMs: now, TimestampBeforeMaxMs: 1000, TimestampAfterMaxMs: 1000},
			{NowMs: now, RequireKeys: true},
			{NowMs: now, LogAppendTime: true},
			{NowMs: math.MaxInt64, TimestampBeforeMaxMs: math.MaxInt64, TimestampAfterMaxMs: math.MaxInt64},
		} {
			c, rulesErr := CheckRecords(b, fuzzMax, &rules)
			c.Release()
			if err != nil && rulesErr == nil {
				t.Fatalf("rules %+v accepted what the structure check refused: %v", rules, err)
			}
			var re *RecordsError
			if !errors.As(rulesErr, &re) {
				continue
			}
			if err != nil || re.Refused < len(re.Records) || len(re.Records) == 0 {
				t.Fatalf("refused records %+v over structure error %v", re, err)
			}
			last := int32(-1)
			for _, r := range re.Records {
				if r.Index <= last || r.Index >= h.RecordCount() {
					t.Fatalf("refused record index %d after %d in a batch of %d", r.Index, last, h.RecordCount())
				}
				last = r.Index
			}
		}
	})
}

// checkRebuilt: records that parsed encode back to the same records.
func checkRebuilt(t *testing.T, b []byte, bld *Builder) {
	want, err := collect(t, b)
	if err != nil {
		t.Fatal(err)
	}
	out, err := bld.Build(nil)
	if err != nil {
		t.Fatalf("rebuild: %v", err)
	}
	got, err := collect(t, out)
	if err != nil {
		t.Fatalf("rebuilt batch: %v", err)
	}
	if err := sameRecords(want, got); err != nil {
		t.Fatalf("rebuilt batch: %v", err)
	}
}

// seedBatches returns the seed corpus: valid batches for every codec and
// shape, and damaged copies.
func seedBatches(t testing.TB) [][]byte {
	var seeds [][]byte
	for _, codec := range codecs {
		info := NewBatchInfo(codec)
		info.BaseOffset = 3
		seeds = append(seeds, build(t, info, sampleRecords(4, 12)))
		info.ProducerID, info.ProducerEpoch, info.BaseSequence, info.Transactional = 7, 1, 0, true
		seeds = append(seeds, build(t, info, sampleRecords(1, 0)))
	}
	ctl := NewBatchInfo(CodecNone)
	ctl.Control, ctl.Transactional, ctl.ProducerID = true, true, 7
	seeds = append(seeds, build(t, ctl, []Record{*EndTxnMarker(true, 2, 99)}))
	empty, _ := NewBuilder(NewBatchInfo(CodecZstd)).Build(nil)
	lat := build(t, NewBatchInfo(CodecLZ4), sampleRecords(3, 5))
	SetLogAppendTime(lat, 123456)
	seeds = append(seeds, empty, lat, xerialBatch(t))

	var damaged [][]byte
	for i, s := range seeds {
		damaged = append(damaged, s[:len(s)/2], s[:HeaderSize])
		if len(s) > HeaderSize {
			flip := append([]byte{}, s...)
			flip[HeaderSize+(i*7)%(len(s)-HeaderSize)] ^= 0x10
			damaged = append(damaged, flip)
		}
		hdr := append([]byte{}, s...)
		hdr[offRecordCount+3]++
		damaged = append(damaged, recrc(hdr))
	}
	// Shapes the produce check refuses: offset deltas out of sequence, a
	// record stamped 1970 in a batch stamped now, a keyless record.
	gap := NewBuilder(NewBatchInfo(CodecGzip))
	for _, off := range []int64{0, 2} {
		_ = gap.AddAt(&Record{Offset: off, Timestamp: 1_700_000_000_000, Key: []byte("k")})
	}
	gapped, _ := gap.Build(nil)
	old := NewBatchInfo(CodecNone)
	old.BaseTimestamp = 1_700_000_000_000
	stale := build(t, old, []Record{{Timestamp: 1_700_000_000_000, Key: []byte("k")}, {Timestamp: 5}})
	damaged = append(damaged, gapped, stale)
	two := append(append([]byte{}, seeds[0]...), seeds[3]...)
	return append(append(seeds, damaged...), two, two[:len(two)-3])
}

// xerialBatch is a snappy batch framed as the Java client frames it.
func xerialBatch(t testing.TB) []byte {
	plain := build(t, NewBatchInfo(CodecNone), sampleRecords(3, 20))
	b := append([]byte{}, plain[:HeaderSize]...)
	b = xerial.Encode(b, plain[HeaderSize:])
	b[offAttributes+1] |= CodecSnappy
	binary.BigEndian.PutUint32(b[offBatchLength:], uint32(len(b)-LogOverhead))
	return recrc(b)
}

// TestSeedCorpus keeps testdata/fuzz in step with seedBatches
// (go test -run TestSeedCorpus ./internal/batch/ -args -update-corpus) and
// checks that the valid seeds are valid.
func TestSeedCorpus(t *testing.T) {
	seeds := seedBatches(t)
	if *updateCorpus {
		for _, name := range []string{"FuzzValidate", "FuzzRecords", "FuzzCheckRecords"} {
			dir := filepath.Join("testdata", "fuzz", name)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			for _, s := range seeds {
				// FuzzRecords and FuzzCheckRecords seeds fix the
				// CRC, so that the record checks behind it are
				// reachable.
				body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\nbool(%t)\n", s, name != "FuzzValidate")
				sum := sha256.Sum256([]byte(body))
				if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%x", sum[:8])), []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	for i, s := range seeds[:len(codecs)*2] {
		if err := ValidateRecords(s, fuzzMax); err != nil {
			t.Errorf("seed %d: %v", i, err)
		}
	}
	unique := map[string]bool{}
	for _, s := range seeds {
		unique[string(s)] = true
	}
	entries, err := os.ReadDir(filepath.Join("testdata", "fuzz", "FuzzRecords"))
	if err != nil || len(entries) < len(unique) {
		t.Fatalf("seed corpus has %d files (%v); run with -update-corpus", len(entries), err)
	}
}
