package raft

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"go.etcd.io/raft/v3/raftpb"
)

// segmentMagic opens every WAL segment: "SLRWAL" and the format version.
var segmentMagic = [8]byte{'S', 'L', 'R', 'W', 'A', 'L', 0, 1}

// maxReusedBuf bounds the encode buffer kept between appends.
const maxReusedBuf = 1 << 20

// wal is the live WAL segment, open for append. A segment begins with a
// snapshot marker and a hard state (its head, written atomically with the
// file) followed by entry and hard-state records; every snapshot starts a
// new segment, so one segment is all the log there is.
//
// Not safe for concurrent use: the node's driver loop owns it.
type wal struct {
	dir string
	seq uint64
	f   *os.File
	buf []byte // encode buffer reused between appends
}

func segmentName(seq uint64) string { return fmt.Sprintf("wal-%016x.log", seq) }

func parseSegmentName(name string) (uint64, bool) {
	hex, ok := strings.CutPrefix(name, "wal-")
	if !ok {
		return 0, false
	}
	hex, ok = strings.CutSuffix(hex, ".log")
	if !ok || len(hex) != 16 {
		return 0, false
	}
	seq, err := strconv.ParseUint(hex, 16, 64)
	return seq, err == nil
}

// createSegment durably writes segment seq holding meta, hs and ents (write
// temp, fsync, rename, fsync dir) and returns it open for append.
func createSegment(dir string, seq uint64, meta *raftpb.SnapshotMetadata, hs *raftpb.HardState, ents []*raftpb.Entry) (*wal, error) {
	buf := append([]byte(nil), segmentMagic[:]...)
	buf, err := appendSnapshotRecord(buf, meta)
	if err != nil {
		return nil, err
	}
	buf = appendHardStateRecord(buf, hs)
	for _, e := range ents {
		buf = appendEntryRecord(buf, e)
	}
	path := filepath.Join(dir, segmentName(seq))
	if err := writeFileAtomic(path, buf); err != nil {
		return nil, fmt.Errorf("create wal segment %d: %w", seq, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return nil, fmt.Errorf("open wal segment %d: %w", seq, err)
	}
	return &wal{dir: dir, seq: seq, f: f}, nil
}

// append writes ents, then hs when not nil. The bytes are durable only
// after sync.
func (w *wal) append(ents []*raftpb.Entry, hs *raftpb.HardState) error {
	buf := w.buf[:0]
	for _, e := range ents {
		buf = appendEntryRecord(buf, e)
	}
	if hs != nil {
		buf = appendHardStateRecord(buf, hs)
	}
	if cap(buf) <= maxReusedBuf {
		w.buf = buf
	}
	if _, err := w.f.Write(buf); err != nil {
		return fmt.Errorf("write wal segment %d: %w", w.seq, err)
	}
	return nil
}

func (w *wal) sync() error {
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("sync wal segment %d: %w", w.seq, err)
	}
	return nil
}

// roll starts segment seq+1 with the given head and tail, then deletes this
// segment. The returned error is about creating the new segment; a failure
// to delete the old one is returned as leftover and is harmless (Open
// removes superseded segments).
func (w *wal) roll(meta *raftpb.SnapshotMetadata, hs *raftpb.HardState, ents []*raftpb.Entry) (next *wal, leftover, err error) {
	next, err = createSegment(w.dir, w.seq+1, meta, hs, ents)
	if err != nil {
		return nil, nil, err
	}
	_ = w.f.Close() // superseded: its content is in next
	if err := os.Remove(filepath.Join(w.dir, segmentName(w.seq))); err != nil {
		leftover = fmt.Errorf("remove wal segment %d: %w", w.seq, err)
	}
	return next, leftover, nil
}

// close syncs and closes the segment.
func (w *wal) close() error {
	err := w.sync()
	if cerr := w.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close wal segment %d: %w", w.seq, cerr)
	}
	return err
}

// logState is what a segment replays to.
type logState struct {
	meta *raftpb.SnapshotMetadata
	hs   *raftpb.HardState
	ents []*raftpb.Entry // Invariant: ents[i].Index == meta.Index+1+i
}

// add appends e, replacing any entries at or after its index, as raft
// does when a new leader overwrites an uncommitted suffix.
func (st *logState) add(e *raftpb.Entry) error {
	first := st.meta.GetIndex() + 1
	next := first + uint64(len(st.ents))
	i := e.GetIndex()
	if i < first || i > next {
		return fmt.Errorf("%w: entry %d outside [%d, %d]", ErrCorrupt, i, first, next)
	}
	st.ents = append(st.ents[:i-first], e)
	return nil
}

func (st *logState) lastIndex() uint64 { return st.meta.GetIndex() + uint64(len(st.ents)) }

// openSegment replays segment seq and cuts a torn tail off the file.
func openSegment(dir string, seq uint64, log *slog.Logger) (*wal, *logState, error) {
	path := filepath.Join(dir, segmentName(seq))
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read wal segment %d: %w", seq, err)
	}
	st, valid, err := replaySegment(data)
	if err != nil {
		return nil, nil, fmt.Errorf("wal segment %d: %w", seq, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("open wal segment %d: %w", seq, err)
	}
	if valid < len(data) {
		log.Warn("raft wal: truncating torn tail", "segment", seq, "offset", valid, "dropped_bytes", len(data)-valid)
		if err := f.Truncate(int64(valid)); err == nil {
			err = f.Sync()
		}
		if err != nil {
			_ = f.Close()
			return nil, nil, fmt.Errorf("truncate wal segment %d: %w", seq, err)
		}
	}
	return &wal{dir: dir, seq: seq, f: f}, st, nil
}

// replaySegment parses a whole segment and returns its state and the
// length of its valid prefix. The head was written with the file, so damage
// there is corruption; damage after it is a torn tail and ends the log.
func replaySegment(data []byte) (*logState, int, error) {
	if len(data) < len(segmentMagic) || !bytes.Equal(data[:len(segmentMagic)], segmentMagic[:]) {
		return nil, 0, fmt.Errorf("%w: bad segment magic", ErrCorrupt)
	}
	off := len(segmentMagic)
	typ, p, size, err := nextRecord(data[off:])
	if err != nil || typ != recSnapshot {
		return nil, 0, fmt.Errorf("%w: segment does not begin with a snapshot marker", ErrCorrupt)
	}
	st := &logState{}
	if st.meta, err = decodeSnapshotMeta(p); err != nil {
		return nil, 0, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	for off += size; off < len(data); off += size {
		typ, p, size, err = nextRecord(data[off:])
		if err != nil {
			break // torn tail
		}
		if err := st.replay(typ, p); err != nil {
			return nil, 0, fmt.Errorf("record at %d: %w", off, err)
		}
	}
	if st.hs == nil {
		return nil, 0, fmt.Errorf("%w: segment head has no hard state", ErrCorrupt)
	}
	return st, off, nil
}

func (st *logState) replay(typ byte, p []byte) error {
	switch typ {
	case recHardState:
		hs, err := decodeHardState(p)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
		st.hs = hs
		return nil
	case recEntry:
		e, err := decodeEntry(p)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
		return st.add(e)
	default:
		return fmt.Errorf("%w: record type %d", ErrCorrupt, typ)
	}
}
