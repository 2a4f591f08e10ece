package raft

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"

	"github.com/sluice-io/sluice/internal/fuzzcorpus"
)

// FuzzReadSnapFile: any snapshot file is refused with ErrCorrupt or gives
// the bytes after its header, which writeSnapFile writes back to the same
// file. fixCRC rewrites the checksum first, so that the fuzzer gets past
// it.
func FuzzReadSnapFile(f *testing.F) {
	dir := f.TempDir()
	for _, data := range [][]byte{[]byte(`{"Index":3,"Topics":{}}`), nil, make([]byte, 100)} {
		if err := writeSnapFile(dir, 2, 3, data); err != nil {
			f.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dir, snapName(2, 3)))
		if err != nil {
			f.Fatal(err)
		}
		fuzzcorpus.Add(f, b, false)
		fuzzcorpus.Add(f, b[:len(b)-1], true)
	}
	fuzzcorpus.Add(f, []byte("SLRSNP\x00\x02"), true)
	f.Fuzz(func(t *testing.T, file []byte, fixCRC bool) {
		if fixCRC && len(file) >= snapHeaderSize {
			binary.LittleEndian.PutUint32(file[len(snapMagic):], crc32.Checksum(file[snapHeaderSize:], castagnoli))
		}
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, snapName(1, 9)), file, 0o644); err != nil {
			t.Fatal(err)
		}
		data, err := readSnapFile(dir, 1, 9)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error is not ErrCorrupt: %v", err)
			}
			return
		}
		if !bytes.Equal(data, file[snapHeaderSize:]) {
			t.Fatal("data is not the file after its header")
		}
		if err := writeSnapFile(dir, 1, 10, data); err != nil {
			t.Fatal(err)
		}
		again, err := os.ReadFile(filepath.Join(dir, snapName(1, 10)))
		if err != nil || !bytes.Equal(again, file) {
			t.Fatalf("rewritten file differs: %v", err)
		}
	})
}

// FuzzParseFileNames: a WAL segment or snapshot name from a directory
// listing parses only into numbers whose name parses back to them.
func FuzzParseFileNames(f *testing.F) {
	fuzzcorpus.Add(f, snapName(3, 0x1234))
	fuzzcorpus.Add(f, segmentName(0xabc))
	fuzzcorpus.Add(f, "snap-000000000000000A-0000000000000001.snap")
	fuzzcorpus.Add(f, "wal-+00000000000001.log")
	f.Fuzz(func(t *testing.T, name string) {
		if seq, ok := parseSegmentName(name); ok {
			if again, ok := parseSegmentName(segmentName(seq)); !ok || again != seq {
				t.Fatalf("segment %q: %d, then %d", name, seq, again)
			}
		}
		if term, index, ok := parseSnapName(name); ok {
			if t2, i2, ok := parseSnapName(snapName(term, index)); !ok || t2 != term || i2 != index {
				t.Fatalf("snapshot %q: %d %d, then %d %d", name, term, index, t2, i2)
			}
		}
	})
}
