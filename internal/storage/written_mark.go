package storage

import (
	"bytes"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/sluice-io/sluice/internal/model"
)

// The written mark (docs/format/log.md) lets a restart after kill -9 skip
// the CRC scan of data the process had written, fsynced or not.
//
// kill -9 ends the process, not the kernel: every write(2) that returned
// is in the page cache and reads back exactly as written. Only a crash of
// the machine can lose or tear unsynced pages. So the log periodically
// records how far its completed writes reach in the active segment,
// together with the boot id of the running kernel; at Open, a mark whose
// boot id is the current one vouches for those bytes and only the bytes
// after it are scanned. After a machine crash the boot id differs and the
// mark is ignored: recovery is then the full scan from the recovery point,
// as before. Without it, a kill -9 with acks=1 data CRC-scanned every byte
// written since the last roll (issue 5: 2.4 s for 10 GiB over 1,000
// partitions, half of it in CRC32C).
//
// Invariants:
//   - the mark is written under Log.mu, so it describes a state in which
//     every byte below its size and every index entry below its counts
//     had been written by calls that returned;
//   - the segment bytes it covers are never rewritten while it exists:
//     appends only add, and every truncation removes the mark first;
//   - it is not fsynced: it only matters within the same boot, where the
//     page cache is the truth.

// writtenMarkName is the per-partition mark file.
const writtenMarkName = "written-mark"

// writtenMarkSize is the fixed size of the file, rewritten in place by one
// pwrite (no truncation, no rename: no metadata work per mark).
const writtenMarkSize = 256

// defaultWrittenMarkMs is how long after an append the mark is refreshed
// when Config.WrittenMarkMs is 0.
const defaultWrittenMarkMs = 1000

// writtenMark is the content of the mark: the active segment and how much
// of it, and of its indexes, had been written.
type writtenMark struct {
	bootID      string
	base        model.Offset // the active segment
	size        int64        // bytes of it written
	next        model.Offset // the offset after its last batch
	offEntries  int64        // offset index entries written
	timeEntries int64        // time index entries written
}

// encode returns the file's bytes: one line of fields ending in a CRC32C
// of the text before it, padded with spaces to writtenMarkSize.
func (m writtenMark) encode() []byte {
	b := make([]byte, 0, writtenMarkSize)
	b = fmt.Appendf(b, "v0 %s %d %d %d %d %d", m.bootID, m.base, m.size, m.next, m.offEntries, m.timeEntries)
	b = fmt.Appendf(b, " %08x\n", crc32.Checksum(b, castagnoli))
	for len(b) < writtenMarkSize {
		b = append(b, ' ')
	}
	return b
}

// parseWrittenMark decodes a mark; any damage is an error.
func parseWrittenMark(b []byte) (writtenMark, error) {
	var m writtenMark
	line, _, ok := bytes.Cut(b, []byte{'\n'})
	if !ok {
		return m, fmt.Errorf("written mark: no line")
	}
	i := bytes.LastIndexByte(line, ' ')
	if i < 0 {
		return m, fmt.Errorf("written mark: no checksum")
	}
	var sum uint32
	if _, err := fmt.Sscanf(string(line[i+1:]), "%08x", &sum); err != nil || sum != crc32.Checksum(line[:i], castagnoli) {
		return m, fmt.Errorf("written mark: bad checksum")
	}
	var v string
	n, err := fmt.Sscanf(string(line[:i]), "%s %s %d %d %d %d %d", &v, &m.bootID, &m.base, &m.size, &m.next, &m.offEntries, &m.timeEntries)
	if err != nil || n != 7 || v != "v0" {
		return m, fmt.Errorf("written mark: malformed %q", line)
	}
	if m.base < 0 || m.size < 0 || m.next < m.base || m.offEntries < 0 || m.timeEntries < 0 {
		return m, fmt.Errorf("written mark: impossible values %q", line)
	}
	return m, nil
}

// bootID is the running kernel's boot id, "" where there is none (then no
// mark is written or trusted). A variable: tests simulate a reboot.
var bootID = sync.OnceValue(func() string {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
})

// markEvery is the delay between an append and the mark covering it; <= 0
// means marks are off.
func (c Config) markEvery() time.Duration {
	switch {
	case c.WrittenMarkMs < 0:
		return 0
	case c.WrittenMarkMs == 0:
		return defaultWrittenMarkMs * time.Millisecond
	}
	return time.Duration(min(c.WrittenMarkMs, maxFlushMs)) * time.Millisecond
}

// armMarkTimerLocked schedules a mark after an append. Called under mu.
func (l *Log) armMarkTimerLocked() {
	every := l.cfg.markEvery()
	if l.markArmed || l.closed || every <= 0 || bootID() == "" {
		return
	}
	l.markArmed = true
	l.bg.Add(1)
	l.markTimer = time.AfterFunc(every, l.markTimerFired)
}

func (l *Log) markTimerFired() {
	defer l.bg.Done()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.markArmed = false
	if l.writableLocked() == nil {
		l.writeMarkLocked()
	}
}

// writeMarkLocked records the active segment's written state. A failed
// write is harmless: the old mark, if any, still holds (appends only add)
// and a torn one fails its checksum. Called under mu.
func (l *Log) writeMarkLocked() {
	s := l.active()
	m := writtenMark{bootID: bootID(), base: s.base, size: s.size.Load(), next: l.next,
		offEntries: s.offIdx.entries(), timeEntries: s.timeIdx.entries()}
	f, err := openFile(filepath.Join(l.dir, writtenMarkName), os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return
	}
	f.WriteAt(m.encode(), 0)
	f.Close()
}

// removeMarkLocked deletes the mark before bytes it may cover are
// rewritten (truncation). Called under mu.
func (l *Log) removeMarkLocked() error {
	if err := os.Remove(filepath.Join(l.dir, writtenMarkName)); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("remove written mark: %w", err)
	}
	return nil
}

// readMark returns the mark if it was written during this boot.
func readMark(dir string) (writtenMark, bool) {
	b, err := readFile(filepath.Join(dir, writtenMarkName))
	if err != nil {
		return writtenMark{}, false
	}
	m, err := parseWrittenMark(b)
	if err != nil || m.bootID == "" || m.bootID != bootID() {
		return writtenMark{}, false
	}
	return m, true
}

// loadMarkedSegment opens the last segment s from a mark: the bytes and
// index entries the mark covers are trusted, the rest is scanned. ok false
// means the mark does not describe the files (the caller scans all).
func (l *Log) loadMarkedSegment(s *segment, fs *fileSet, m writtenMark) (truncated int64, ok bool, err error) {
	if m.base != s.base || s.size.Load() < m.size {
		return 0, false, nil
	}
	for _, x := range []struct {
		suffix string
		n, w   int64
	}{{indexSuffix, m.offEntries, offsetEntrySize}, {timeIndexSuffix, m.timeEntries, timeEntrySize}} {
		fi, err := os.Stat(segmentName(l.dir, s.base, x.suffix))
		if err != nil || fi.Size() < x.n*x.w {
			return 0, false, nil
		}
	}
	if err := s.openIndexesWritable(fs, int64(l.cfg.SegmentIndexBytes), m.offEntries, m.timeEntries); err != nil {
		return 0, false, nil
	}
	if off, pos := s.offIdx.lastEntry(); m.offEntries > 0 && (off < s.base || off >= m.next || pos >= m.size) {
		return 0, false, nil
	}
	if _, off := s.timeIdx.lastEntry(); m.timeEntries > 0 && (off < s.base || off >= m.next) {
		return 0, false, nil
	}
	fileSize := s.size.Load()
	s.size.Store(m.size)
	if err := s.loadTail(fs, false); err != nil || s.next != m.next {
		s.size.Store(fileSize)
		return 0, false, nil
	}
	s.size.Store(fileSize)
	truncated, err = l.scanSegmentFrom(s, fs, m.size)
	return truncated, true, err
}
