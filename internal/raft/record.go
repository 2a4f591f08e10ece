package raft

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// WAL record framing (docs/format/raft.md):
//
//	length u32 LE | crc32c u32 LE | type u8 | payload
//
// length counts type+payload; the CRC covers the same bytes.
const recordHeaderSize = 8

// Record types.
const (
	recSnapshot  byte = 1 // snapshot marker: the log continues after it
	recHardState byte = 2
	recEntry     byte = 3
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errTorn marks bytes that do not form a whole valid record: the end of
// what was durably written.
var errTorn = errors.New("torn record")

// beginRecord reserves a record header and writes the type byte.
func beginRecord(buf []byte, typ byte) ([]byte, int) {
	start := len(buf)
	buf = append(buf, 0, 0, 0, 0, 0, 0, 0, 0, typ)
	return buf, start
}

// endRecord fills in the header of the record started at start.
func endRecord(buf []byte, start int) []byte {
	body := buf[start+recordHeaderSize:]
	binary.LittleEndian.PutUint32(buf[start:], uint32(len(body)))
	binary.LittleEndian.PutUint32(buf[start+4:], crc32.Checksum(body, castagnoli))
	return buf
}

// appendEntryRecord: term u64 | index u64 | entry type u8 | data.
func appendEntryRecord(buf []byte, e *raftpb.Entry) []byte {
	buf, start := beginRecord(buf, recEntry)
	buf = binary.LittleEndian.AppendUint64(buf, e.GetTerm())
	buf = binary.LittleEndian.AppendUint64(buf, e.GetIndex())
	buf = append(buf, byte(e.GetType()))
	buf = append(buf, e.GetData()...)
	return endRecord(buf, start)
}

// appendHardStateRecord: term u64 | vote u64 | commit u64.
func appendHardStateRecord(buf []byte, hs *raftpb.HardState) []byte {
	buf, start := beginRecord(buf, recHardState)
	buf = binary.LittleEndian.AppendUint64(buf, hs.GetTerm())
	buf = binary.LittleEndian.AppendUint64(buf, hs.GetVote())
	buf = binary.LittleEndian.AppendUint64(buf, hs.GetCommit())
	return endRecord(buf, start)
}

// appendSnapshotRecord: term u64 | index u64 | ConfState (protobuf).
func appendSnapshotRecord(buf []byte, meta *raftpb.SnapshotMetadata) ([]byte, error) {
	cs, err := proto.Marshal(meta.GetConfState())
	if err != nil {
		return buf, fmt.Errorf("encode conf state: %w", err)
	}
	buf, start := beginRecord(buf, recSnapshot)
	buf = binary.LittleEndian.AppendUint64(buf, meta.GetTerm())
	buf = binary.LittleEndian.AppendUint64(buf, meta.GetIndex())
	buf = append(buf, cs...)
	return endRecord(buf, start), nil
}

// nextRecord parses the record at the start of b and returns its type,
// payload (aliasing b) and total size, or errTorn.
func nextRecord(b []byte) (typ byte, payload []byte, size int, err error) {
	if len(b) < recordHeaderSize+1 {
		return 0, nil, 0, errTorn
	}
	n := binary.LittleEndian.Uint32(b)
	if n == 0 || uint64(n) > uint64(len(b)-recordHeaderSize) {
		return 0, nil, 0, errTorn
	}
	body := b[recordHeaderSize : recordHeaderSize+int(n)]
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(b[4:]) {
		return 0, nil, 0, errTorn
	}
	return body[0], body[1:], recordHeaderSize + int(n), nil
}

func decodeEntry(p []byte) (*raftpb.Entry, error) {
	if len(p) < 17 {
		return nil, fmt.Errorf("entry record of %d bytes", len(p))
	}
	typ := raftpb.EntryType(p[16])
	switch typ {
	case raftpb.EntryNormal, raftpb.EntryConfChange, raftpb.EntryConfChangeV2:
	default:
		return nil, fmt.Errorf("entry type %d", typ)
	}
	e := &raftpb.Entry{
		Term:  new(binary.LittleEndian.Uint64(p)),
		Index: new(binary.LittleEndian.Uint64(p[8:])),
		Type:  typ.Enum(),
	}
	if len(p) > 17 {
		e.Data = bytes.Clone(p[17:])
	}
	return e, nil
}

func decodeHardState(p []byte) (*raftpb.HardState, error) {
	if len(p) != 24 {
		return nil, fmt.Errorf("hard state record of %d bytes", len(p))
	}
	return &raftpb.HardState{
		Term:   new(binary.LittleEndian.Uint64(p)),
		Vote:   new(binary.LittleEndian.Uint64(p[8:])),
		Commit: new(binary.LittleEndian.Uint64(p[16:])),
	}, nil
}

func decodeSnapshotMeta(p []byte) (*raftpb.SnapshotMetadata, error) {
	if len(p) < 16 {
		return nil, fmt.Errorf("snapshot record of %d bytes", len(p))
	}
	cs := &raftpb.ConfState{}
	if err := proto.Unmarshal(p[16:], cs); err != nil {
		return nil, fmt.Errorf("decode conf state: %w", err)
	}
	return &raftpb.SnapshotMetadata{
		Term:      new(binary.LittleEndian.Uint64(p)),
		Index:     new(binary.LittleEndian.Uint64(p[8:])),
		ConfState: raftpb.EnsureConfState(cs),
	}, nil
}
