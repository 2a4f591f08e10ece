package storage

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/sluice-io/sluice/internal/model"
)

func TestCheckpointRoundTrip(t *testing.T) {
	for _, c := range []checkpoint{
		{},
		{logStartOffset: 5, recoveryPoint: 1 << 40},
		{logStartOffset: 1, recoveryPoint: 2, clean: true, activeBase: 3, activeSize: 4},
	} {
		got, err := parseCheckpoint(c.encode())
		if err != nil || got != c {
			t.Errorf("parse(encode(%+v)) = %+v, %v", c, got, err)
		}
	}
}

func TestCheckpointParseErrors(t *testing.T) {
	for _, in := range []string{
		"",
		"version: 1\nlog_start_offset: 0\nrecovery_point: 0\n",
		"version: 0\nrecovery_point: 0\n",
		"version: 0\nlog_start_offset: -4\nrecovery_point: 0\n",
		"version: 0\nlog_start_offset: x\nrecovery_point: 0\n",
		"version 0\n",
		"version: 0\nlog_start_offset: 0\nrecovery_point: 0\nactive_segment: 1\n",
	} {
		if c, err := parseCheckpoint([]byte(in)); err == nil {
			t.Errorf("parse(%q) = %+v, want an error", in, c)
		}
	}
	c, err := parseCheckpoint([]byte("version: 0\nlog_start_offset: 3\nrecovery_point: 9\nfuture_key: x\n"))
	if err != nil || c.logStartOffset != 3 || c.recoveryPoint != 9 || c.clean {
		t.Errorf("unknown key: %+v, %v", c, err)
	}
}

func FuzzParseCheckpoint(f *testing.F) {
	f.Add(checkpoint{logStartOffset: 1, recoveryPoint: 2, clean: true, activeBase: 3, activeSize: 4}.encode())
	f.Add([]byte("version: 0\nlog_start_offset: 0\nrecovery_point: 0\n"))
	f.Add([]byte("version: 0\n\n: \n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := parseCheckpoint(b)
		if err != nil {
			return
		}
		if c.logStartOffset < 0 || c.recoveryPoint < 0 {
			t.Fatalf("negative offsets accepted: %+v", c)
		}
		if again, err := parseCheckpoint(c.encode()); err != nil || again != c {
			t.Fatalf("round trip of %+v: %+v, %v", c, again, err)
		}
	})
}

func TestPartitionMetadataRoundTrip(t *testing.T) {
	id := model.NewTopicID()
	got, err := parsePartitionMetadata(encodePartitionMetadata(id))
	if err != nil || got != id {
		t.Fatalf("round trip: %v, %v", got, err)
	}
	// Kafka writes exactly this (Uuid.toString is URL-safe base64).
	got, err = parsePartitionMetadata([]byte("version: 0\ntopic_id: AAAAAAAAAAAAAAAAAAAAAQ\n"))
	if err != nil || got != (model.TopicID{15: 1}) {
		t.Errorf("Kafka's file: %v, %v", got, err)
	}
	for _, bad := range []string{"", "version: 1\ntopic_id: AAAAAAAAAAAAAAAAAAAAAQ\n", "version: 0\ntopic_id: short\n", "version: 0\n"} {
		if _, err := parsePartitionMetadata([]byte(bad)); err == nil {
			t.Errorf("parse(%q) accepted", bad)
		}
	}
}

func FuzzParsePartitionMetadata(f *testing.F) {
	f.Add(encodePartitionMetadata(model.TopicID{1, 2, 3}))
	f.Add([]byte("version: 0\ntopic_id: \n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		id, err := parsePartitionMetadata(b)
		if err != nil {
			return
		}
		if again, err := parsePartitionMetadata(encodePartitionMetadata(id)); err != nil || again != id {
			t.Fatalf("round trip of %v: %v, %v", id, again, err)
		}
	})
}

func FuzzParseLeaderEpochCheckpoint(f *testing.F) {
	c := leaderEpochCache{entries: []EpochEntry{{0, 0}, {3, 100}}}
	f.Add(c.encode())
	f.Add([]byte("0\n0\n"))
	f.Add([]byte("0\n99999999\n1 2\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		entries, err := parseLeaderEpochCheckpoint(b)
		if err != nil {
			return
		}
		for i := 1; i < len(entries); i++ {
			if entries[i].Epoch <= entries[i-1].Epoch || entries[i].StartOffset < entries[i-1].StartOffset {
				t.Fatalf("not increasing: %v", entries)
			}
		}
		again, err := parseLeaderEpochCheckpoint((&leaderEpochCache{entries: entries}).encode())
		if err != nil || !slices.Equal(again, entries) {
			t.Fatalf("round trip of %v: %v, %v", entries, again, err)
		}
	})
}

// TestIdleLogClosesWithoutWriting: a log opened after a clean shutdown
// that took no write closes without replacing its checkpoint (two fsyncs
// a partition, which made a clean stop of 100,000 idle partitions take
// minutes) and without opening its segment files.
func TestIdleLogClosesWithoutWriting(t *testing.T) {
	cfg := testConfig()
	l := newTestLog(t, cfg)
	appendBatches(t, l, 3, 1, 100, 0)
	l.Close()
	ckPath := filepath.Join(l.Dir(), logCheckpointName)
	before, err := os.Stat(ckPath)
	if err != nil {
		t.Fatal(err)
	}
	l2, err := Open(l.Dir(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := l2.Close(); err != nil {
		t.Fatal(err)
	}
	for _, s := range l2.segments() {
		if s.rwSet != nil || !s.finalized {
			t.Errorf("segment %d: index maps reopened by Close", s.base)
		}
	}
	after, err := os.Stat(ckPath)
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(before, after) {
		t.Error("Close of an idle log replaced its checkpoint")
	}
	l3, err := Open(l.Dir(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer l3.Close()
	if l3.scanBytes.Load() != 0 || len(readAll(t, l3, 0)) != 3 {
		t.Errorf("after two clean stops: scanned %d bytes, want 0 and 3 batches", l3.scanBytes.Load())
	}
}

func TestHWCheckpointRoundTrip(t *testing.T) {
	dir := t.TempDir()
	if got, err := ReadHWCheckpoint(dir); err != nil || len(got) != 0 {
		t.Fatalf("no file: %v, %v", got, err)
	}
	want := map[model.TopicPartition]model.Offset{{Topic: "b", Partition: 1}: 7, {Topic: "a", Partition: 10}: 0, {Topic: "a", Partition: 2}: 5}
	if err := WriteHWCheckpoint(dir, want); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, HWCheckpointName))
	if string(b) != "0\n3\na 2 5\na 10 0\nb 1 7\n" {
		t.Fatalf("file %q", b)
	}
	got, err := ReadHWCheckpoint(dir)
	if err != nil || !maps.Equal(got, want) {
		t.Fatalf("read %v, %v", got, err)
	}
	for _, bad := range []string{"1\n0\n", "0\n2\na 0 1\n", "0\n1\na x 1\n", "0\n1\na 0 -1\n", ""} {
		if _, err := parseHWCheckpoint([]byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}
