package raft

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

func testEntry(index, term uint64, data string) *raftpb.Entry {
	e := &raftpb.Entry{Index: new(index), Term: new(term), Type: raftpb.EntryNormal.Enum()}
	if data != "" {
		e.Data = []byte(data)
	}
	return e
}

func testHardState(term, vote, commit uint64) *raftpb.HardState {
	return &raftpb.HardState{Term: new(term), Vote: new(vote), Commit: new(commit)}
}

func testMeta(term, index uint64, voters ...uint64) *raftpb.SnapshotMetadata {
	return &raftpb.SnapshotMetadata{
		Term: new(term), Index: new(index),
		ConfState: raftpb.EnsureConfState(&raftpb.ConfState{Voters: voters}),
	}
}

func TestRecordRoundTrip(t *testing.T) {
	cc := &raftpb.Entry{Index: new(uint64(7)), Term: new(uint64(2)), Type: raftpb.EntryConfChangeV2.Enum(), Data: []byte{1, 2}}
	entries := []*raftpb.Entry{testEntry(5, 1, ""), testEntry(6, 2, "payload"), cc}
	for _, e := range entries {
		t.Run("entry "+e.GetType().String(), func(t *testing.T) {
			typ, p, size, err := nextRecord(appendEntryRecord(nil, e))
			if err != nil || typ != recEntry {
				t.Fatalf("nextRecord: %v, type %d", err, typ)
			}
			got, err := decodeEntry(p)
			if err != nil || !proto.Equal(got, e) {
				t.Fatalf("decoded %v (%v), want %v", got, err, e)
			}
			if size != len(appendEntryRecord(nil, e)) {
				t.Fatalf("size %d", size)
			}
		})
	}
	t.Run("hard state", func(t *testing.T) {
		hs := testHardState(3, 2, 9)
		_, p, _, err := nextRecord(appendHardStateRecord(nil, hs))
		if err != nil {
			t.Fatal(err)
		}
		if got, err := decodeHardState(p); err != nil || !proto.Equal(got, hs) {
			t.Fatalf("decoded %v (%v)", got, err)
		}
	})
	t.Run("snapshot marker", func(t *testing.T) {
		meta := testMeta(4, 100, 1, 2, 3)
		b, err := appendSnapshotRecord(nil, meta)
		if err != nil {
			t.Fatal(err)
		}
		_, p, _, err := nextRecord(b)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := decodeSnapshotMeta(p); err != nil || !proto.Equal(got, meta) {
			t.Fatalf("decoded %v (%v), want %v", got, err, meta)
		}
	})
}

func TestNextRecordRejectsDamage(t *testing.T) {
	good := appendEntryRecord(nil, testEntry(2, 1, "abc"))
	flip := func(i int) []byte {
		b := append([]byte(nil), good...)
		b[i] ^= 0x40
		return b
	}
	tests := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"short header", good[:5]},
		{"short body", good[:len(good)-1]},
		{"zero length", make([]byte, 32)},
		{"length flipped", flip(2)},
		{"crc flipped", flip(5)},
		{"body flipped", flip(len(good) - 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, _, err := nextRecord(tt.b); !errors.Is(err, errTorn) {
				t.Fatalf("nextRecord: %v, want errTorn", err)
			}
		})
	}
}

func segmentBytes(t *testing.T, meta *raftpb.SnapshotMetadata, hs *raftpb.HardState, recs ...[]byte) []byte {
	t.Helper()
	b := append([]byte(nil), segmentMagic[:]...)
	b, err := appendSnapshotRecord(b, meta)
	if err != nil {
		t.Fatal(err)
	}
	b = appendHardStateRecord(b, hs)
	for _, r := range recs {
		b = append(b, r...)
	}
	return b
}

func TestReplaySegment(t *testing.T) {
	meta, hs := testMeta(1, 10, 1), testHardState(1, 0, 10)
	ent := func(index, term uint64, data string) []byte {
		return appendEntryRecord(nil, testEntry(index, term, data))
	}
	tests := []struct {
		name     string
		recs     [][]byte
		wantData []string
		wantErr  error
	}{
		{"empty log", nil, nil, nil},
		{"contiguous", [][]byte{ent(11, 1, "a"), ent(12, 1, "b")}, []string{"a", "b"}, nil},
		{"suffix overwritten", [][]byte{ent(11, 1, "a"), ent(12, 1, "b"), ent(13, 1, "c"), ent(12, 2, "B")}, []string{"a", "B"}, nil},
		{"gap", [][]byte{ent(11, 1, "a"), ent(13, 1, "c")}, nil, ErrCorrupt},
		{"before snapshot", [][]byte{ent(10, 1, "a")}, nil, ErrCorrupt},
		{"unknown record type", [][]byte{endRecord(append(make([]byte, 8), 9), 0)}, nil, ErrCorrupt},
		{"torn tail ignored", [][]byte{ent(11, 1, "a"), ent(12, 1, "b")[:7]}, []string{"a"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := segmentBytes(t, meta, hs, tt.recs...)
			st, valid, err := replaySegment(data)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("replaySegment: %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range st.ents {
				got = append(got, string(e.GetData()))
			}
			if len(got) != len(tt.wantData) {
				t.Fatalf("entries %v, want %v", got, tt.wantData)
			}
			for i := range got {
				if got[i] != tt.wantData[i] {
					t.Fatalf("entries %v, want %v", got, tt.wantData)
				}
			}
			if valid > len(data) {
				t.Fatalf("valid %d > %d", valid, len(data))
			}
		})
	}
}

func TestWALAppendRollReopen(t *testing.T) {
	dir := t.TempDir()
	w, err := createSegment(dir, 1, testMeta(1, 1, 1), testHardState(1, 0, 1), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.append([]*raftpb.Entry{testEntry(2, 2, "a"), testEntry(3, 2, "b")}, testHardState(2, 1, 3)); err != nil {
		t.Fatal(err)
	}
	if err := w.sync(); err != nil {
		t.Fatal(err)
	}
	next, leftover, err := w.roll(testMeta(2, 2, 1), testHardState(2, 1, 3), []*raftpb.Entry{testEntry(3, 2, "b")})
	if err != nil || leftover != nil {
		t.Fatalf("roll: %v, %v", err, leftover)
	}
	if err := next.close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, segmentName(1))); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("old segment still there: %v", err)
	}
	w, st, err := openSegment(dir, 2, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer w.close()
	if st.meta.GetIndex() != 2 || len(st.ents) != 1 || string(st.ents[0].GetData()) != "b" || st.hs.GetCommit() != 3 {
		t.Fatalf("reopened state: meta %v, ents %v, hs %v", st.meta, st.ents, st.hs)
	}
}

func TestParseFileNames(t *testing.T) {
	if seq, ok := parseSegmentName(segmentName(0xabc)); !ok || seq != 0xabc {
		t.Fatalf("segment name round trip: %d %v", seq, ok)
	}
	if term, index, ok := parseSnapName(snapName(3, 0x1234)); !ok || term != 3 || index != 0x1234 {
		t.Fatalf("snap name round trip: %d %d %v", term, index, ok)
	}
	for _, bad := range []string{"wal-1.log", "wal-000000000000000g.log", "snap-1-2.snap", "LOCK", "wal-0000000000000001.log.tmp"} {
		if _, ok := parseSegmentName(bad); ok {
			t.Errorf("parseSegmentName(%q) ok", bad)
		}
		if _, _, ok := parseSnapName(bad); ok {
			t.Errorf("parseSnapName(%q) ok", bad)
		}
	}
}

// FuzzReplaySegment: no input read from disk makes replay panic or claim
// more valid bytes than it was given.
func FuzzReplaySegment(f *testing.F) {
	meta, hs := testMeta(1, 1, 1), testHardState(1, 0, 1)
	good := append([]byte(nil), segmentMagic[:]...)
	good, _ = appendSnapshotRecord(good, meta)
	good = appendHardStateRecord(good, hs)
	good = appendEntryRecord(good, testEntry(2, 1, "a"))
	f.Add(good)
	f.Add(good[:len(good)-3])
	f.Add(append(append([]byte(nil), good...), 0, 0, 0, 0, 0))
	f.Add([]byte("SLRWAL\x00\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, valid, err := replaySegment(data)
		if err != nil {
			return
		}
		if valid > len(data) || st.hs == nil || st.meta == nil {
			t.Fatalf("valid %d of %d, state %+v", valid, len(data), st)
		}
	})
}
