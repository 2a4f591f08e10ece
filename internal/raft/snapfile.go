package raft

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// snapMagic opens every snapshot file: "SLRSNP" and the format version.
var snapMagic = [8]byte{'S', 'L', 'R', 'S', 'N', 'P', 0, 1}

// snapHeaderSize is the magic and the CRC32C of the data.
const snapHeaderSize = len(snapMagic) + 4

func snapName(term, index uint64) string {
	return fmt.Sprintf("snap-%016x-%016x.snap", term, index)
}

func parseSnapName(name string) (term, index uint64, ok bool) {
	rest, ok := strings.CutPrefix(name, "snap-")
	if !ok {
		return 0, 0, false
	}
	rest, ok = strings.CutSuffix(rest, ".snap")
	if !ok || len(rest) != 33 || rest[16] != '-' {
		return 0, 0, false
	}
	term, err1 := strconv.ParseUint(rest[:16], 16, 64)
	index, err2 := strconv.ParseUint(rest[17:], 16, 64)
	return term, index, err1 == nil && err2 == nil
}

// writeSnapFile durably writes the state machine's snapshot data.
func writeSnapFile(dir string, term, index uint64, data []byte) error {
	buf := make([]byte, snapHeaderSize, snapHeaderSize+len(data))
	copy(buf, snapMagic[:])
	binary.LittleEndian.PutUint32(buf[len(snapMagic):], crc32.Checksum(data, castagnoli))
	buf = append(buf, data...)
	if err := writeFileAtomic(filepath.Join(dir, snapName(term, index)), buf); err != nil {
		return fmt.Errorf("write snapshot %d: %w", index, err)
	}
	return nil
}

// readSnapFile reads and verifies the snapshot data written by writeSnapFile.
func readSnapFile(dir string, term, index uint64) ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(dir, snapName(term, index)))
	if err != nil {
		return nil, fmt.Errorf("read snapshot %d: %w", index, err)
	}
	if len(b) < snapHeaderSize || !bytes.Equal(b[:len(snapMagic)], snapMagic[:]) {
		return nil, fmt.Errorf("%w: snapshot %d: bad header", ErrCorrupt, index)
	}
	data := b[snapHeaderSize:]
	if crc32.Checksum(data, castagnoli) != binary.LittleEndian.Uint32(b[len(snapMagic):]) {
		return nil, fmt.Errorf("%w: snapshot %d: bad checksum", ErrCorrupt, index)
	}
	if len(data) == 0 {
		return nil, nil
	}
	return data, nil
}

// removeSnapsExcept deletes every snapshot file but snap-<term>-<index>.
func removeSnapsExcept(dir string, term, index uint64) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("list %s: %w", dir, err)
	}
	keep := snapName(term, index)
	for _, e := range ents {
		if _, _, ok := parseSnapName(e.Name()); ok && e.Name() != keep {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				return fmt.Errorf("remove old snapshot: %w", err)
			}
		}
	}
	return nil
}
