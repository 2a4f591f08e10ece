package storage

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sluice-io/sluice/internal/model"
)

func newOffsetIndex(t testing.TB, base model.Offset, maxBytes int64, entries [][2]int64) *offsetIndex {
	t.Helper()
	x := &offsetIndex{base: base}
	if err := x.openWritable(filepath.Join(t.TempDir(), "i.index"), offsetEntrySize, maxBytes, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.close() })
	for _, e := range entries {
		x.append(model.Offset(e[0]), e[1])
	}
	return x
}

func TestOffsetIndexLookup(t *testing.T) {
	x := newOffsetIndex(t, 100, 1024, [][2]int64{{104, 400}, {110, 900}, {117, 1500}})
	tests := []struct {
		off     model.Offset
		wantOff model.Offset
		wantPos int64
	}{
		{50, 100, 0}, {100, 100, 0}, {103, 100, 0}, {104, 104, 400},
		{109, 104, 400}, {110, 110, 900}, {116, 110, 900}, {117, 117, 1500}, {1 << 40, 117, 1500},
	}
	for _, tt := range tests {
		if off, pos := x.lookup(tt.off); off != tt.wantOff || pos != tt.wantPos {
			t.Errorf("lookup(%d) = %d, %d; want %d, %d", tt.off, off, pos, tt.wantOff, tt.wantPos)
		}
	}
	for _, tt := range []struct{ pos, want int64 }{{0, 0}, {399, 0}, {400, 400}, {1499, 900}, {1 << 30, 1500}} {
		if _, pos := x.lookupPosition(tt.pos); pos != tt.want {
			t.Errorf("lookupPosition(%d) = %d, want %d", tt.pos, pos, tt.want)
		}
	}
	x.truncateTo(110)
	if off, pos := x.lastEntry(); off != 104 || pos != 400 {
		t.Errorf("after truncateTo(110): last entry %d, %d", off, pos)
	}
}

func TestOffsetIndexFullAndTrim(t *testing.T) {
	x := newOffsetIndex(t, 0, 3*offsetEntrySize+5, nil) // room for 3 entries
	for i := range int64(3) {
		if x.full() {
			t.Fatalf("full after %d entries", i)
		}
		x.append(model.Offset(i*10), i*100)
	}
	if !x.full() {
		t.Fatal("not full after 3 entries")
	}
	if err := x.trim(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(x.path); err != nil || fi.Size() != 3*offsetEntrySize {
		t.Errorf("trimmed file: %v, %v", fi, err)
	}
	if off, _ := x.lookup(25); off != 20 {
		t.Errorf("lookup after trim = %d", off)
	}
}

func TestTimeIndex(t *testing.T) {
	x := &timeIndex{base: 50}
	if err := x.openWritable(filepath.Join(t.TempDir(), "t.timeindex"), timeEntrySize, 3*timeEntrySize, 0); err != nil {
		t.Fatal(err)
	}
	defer x.close()
	x.maybeAppend(1000, 52, false)
	x.maybeAppend(1000, 55, false) // not larger: skipped
	x.maybeAppend(2000, 60, false)
	x.maybeAppend(3000, 70, false) // would take the reserved slot: skipped
	if !x.full() || x.entries() != 2 {
		t.Fatalf("entries %d full %v", x.entries(), x.full())
	}
	x.maybeAppend(3000, 70, true) // the final entry uses the reserved slot
	for _, tt := range []struct {
		ts      int64
		wantTs  int64
		wantOff model.Offset
	}{{999, -1, 50}, {1000, 1000, 52}, {2500, 2000, 60}, {9999, 3000, 70}} {
		if ts, off := x.lookup(tt.ts); ts != tt.wantTs || off != tt.wantOff {
			t.Errorf("lookup(%d) = %d, %d; want %d, %d", tt.ts, ts, off, tt.wantTs, tt.wantOff)
		}
	}
	x.truncateTo(60)
	if ts, off := x.lastEntry(); ts != 1000 || off != 52 {
		t.Errorf("after truncateTo(60): %d, %d", ts, off)
	}
}
