package storage

import (
	"errors"
	"io"
	"net"
	"testing"

	"github.com/sluice-io/sluice/internal/model"
	"github.com/sluice-io/sluice/internal/storage/storagetest"
)

// fixedLog appends n one-record batches of exactly size bytes each.
func fixedLog(t *testing.T, cfg Config, n, size int) *Log {
	t.Helper()
	l := newTestLog(t, cfg)
	for i := range n {
		if _, err := l.Append(storagetest.BatchOfSize(size, int64(i)), 0); err != nil {
			t.Fatal(err)
		}
	}
	return l
}

func TestReadMaxBytes(t *testing.T) {
	cfg := testConfig()
	cfg.IndexIntervalBytes = 250
	l := fixedLog(t, cfg, 20, 100) // offsets 0..19, batch i at position 100*i
	tests := []struct {
		name        string
		from        model.Offset
		maxBytes    int32
		minOne      bool
		wantPos     int64
		wantSize    int64
		wantFirstOf model.Offset
	}{
		{"exact fit", 0, 300, false, 0, 300, 0},
		{"rounds down to a batch", 0, 399, false, 0, 300, 0},
		{"from mid log", 5, 250, false, 500, 200, 5},
		{"whole rest", 15, 1 << 20, false, 1500, 500, 15},
		{"last batch", 19, 100, false, 1900, 100, 19},
		{"too small without minOne", 3, 99, false, 0, 0, 0},
		{"too small with minOne", 3, 99, true, 300, 100, 3},
		{"zero with minOne", 3, 0, true, 300, 100, 3},
		{"negative with minOne", 3, -1, true, 300, 100, 3},
		{"at log end", 20, 1000, true, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := l.Read(tt.from, tt.maxBytes, tt.minOne)
			if err != nil {
				t.Fatal(err)
			}
			if c.Size != tt.wantSize || (c.Size > 0 && (c.Pos != tt.wantPos || c.FirstOffset != tt.wantFirstOf)) {
				t.Fatalf("Read = pos %d size %d first %d, want pos %d size %d first %d",
					c.Pos, c.Size, c.FirstOffset, tt.wantPos, tt.wantSize, tt.wantFirstOf)
			}
			if c.Size > 0 {
				splitBatches(t, chunkBytes(t, c))
			}
		})
	}
}

func TestReadMinOneBatchLargerThanMax(t *testing.T) {
	l := newTestLog(t, testConfig())
	l.Append(storagetest.BatchOfSize(100, 0), 0)
	l.Append(storagetest.BatchOfSize(5000, 0), 0)
	l.Append(storagetest.BatchOfSize(100, 0), 0)
	c, err := l.Read(1, 1000, true)
	if err != nil || c.Pos != 100 || c.Size != 5000 {
		t.Fatalf("Read = %+v, %v; want the 5000-byte batch alone", c, err)
	}
	if c, _ := l.Read(1, 1000, false); !c.Empty() {
		t.Fatalf("Read without minOneBatch = %+v, want empty", c)
	}
}

func TestReadOutOfRange(t *testing.T) {
	l := fixedLog(t, testConfig(), 10, 100)
	if err := l.DeleteRecordsBefore(4); err != nil {
		t.Fatal(err)
	}
	for _, off := range []model.Offset{-1, 0, 3, 11, 1000} {
		if _, err := l.Read(off, 1000, true); !errors.Is(err, ErrOffsetOutOfRange) {
			t.Errorf("Read(%d) = %v, want ErrOffsetOutOfRange", off, err)
		}
	}
	for _, off := range []model.Offset{4, 9, 10} {
		if _, err := l.Read(off, 1000, true); err != nil {
			t.Errorf("Read(%d) = %v", off, err)
		}
	}
}

func TestReadOneSegmentAtATime(t *testing.T) {
	cfg := testConfig()
	cfg.SegmentBytes = 1000
	l := fixedLog(t, cfg, 25, 100) // 10 batches per segment
	c, err := l.Read(7, 1<<20, true)
	if err != nil {
		t.Fatal(err)
	}
	if c.FirstOffset != 7 || c.Size != 300 {
		t.Errorf("Read(7) = first %d size %d, want first 7 size 300 (to the segment end)", c.FirstOffset, c.Size)
	}
	c, err = l.Read(10, 1<<20, true)
	if err != nil || c.Pos != 0 || c.Size != 1000 {
		t.Errorf("Read(10) = %+v, %v; want the whole second segment", c, err)
	}
}

func TestReadUpTo(t *testing.T) {
	cfg := testConfig()
	cfg.SegmentBytes = 1000
	l := fixedLog(t, cfg, 25, 100)
	tests := []struct {
		from, limit model.Offset
		wantSize    int64
	}{
		{0, 5, 500},
		{0, 10, 1000},
		{0, 15, 1000}, // one segment per read
		{12, 15, 300},
		{12, 12, 0},
		{24, 25, 100},
		{3, 100, 700}, // limit past the end is the end
	}
	for _, tt := range tests {
		c, err := l.ReadUpTo(tt.from, tt.limit, 1<<20, true)
		if err != nil || c.Size != tt.wantSize {
			t.Errorf("ReadUpTo(%d, %d) = size %d, %v; want %d", tt.from, tt.limit, c.Size, err, tt.wantSize)
		}
	}
}

func TestChunkWriteToSocket(t *testing.T) {
	l := fixedLog(t, testConfig(), 50, 1000)
	c, err := l.Read(10, 20_000, true)
	if err != nil || c.Size != 20_000 {
		t.Fatalf("Read = %+v, %v", c, err)
	}
	want := chunkBytes(t, c)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan []byte, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			got <- nil
			return
		}
		defer conn.Close()
		b, _ := io.ReadAll(conn)
		got <- b
	}()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	n, err := c.WriteTo(conn)
	conn.Close()
	if err != nil || n != c.Size {
		t.Fatalf("WriteTo = %d, %v", n, err)
	}
	if b := <-got; !sameBytes(b, want) {
		t.Errorf("received %d bytes differing from the chunk", len(b))
	}
	// A plain writer gets a copy.
	var buf writerOnly
	if n, err := c.WriteTo(&buf); err != nil || n != c.Size || !sameBytes(buf.b, want) {
		t.Errorf("WriteTo(buffer) = %d, %v", n, err)
	}
}

type writerOnly struct{ b []byte }

func (w *writerOnly) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }

func TestChunkOfDeletedSegmentStaysReadable(t *testing.T) {
	cfg := testConfig()
	cfg.SegmentBytes = 1000
	cfg.FileDeleteDelayMs = 60_000
	l := fixedLog(t, cfg, 25, 100)
	c, err := l.Read(0, 1<<20, true)
	if err != nil {
		t.Fatal(err)
	}
	want := chunkBytes(t, c)
	if err := l.DeleteRecordsBefore(20); err != nil {
		t.Fatal(err)
	}
	if n := len(l.segments()); n != 1 {
		t.Fatalf("%d segments after DeleteRecordsBefore(20), want 1", n)
	}
	if got := chunkBytes(t, c); !sameBytes(got, want) {
		t.Error("chunk of a deleted segment changed")
	}
}
