package storage

import (
	"path/filepath"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// waitPrefaults waits until the prefault workers are gone.
func waitPrefaults() {
	for {
		prefaults.mu.Lock()
		n := prefaults.workers
		prefaults.mu.Unlock()
		if n == 0 {
			return
		}
		waitABit()
	}
}

// TestPrefaultNextEntryPage: a new writable index gets the page of its
// next entry populated in the background, and closing an index at once
// (before its prefault runs) is safe.
func TestPrefaultNextEntryPage(t *testing.T) {
	tests := []struct {
		name     string
		entries  int64 // entries kept in the file
		wantPage int   // page expected resident
	}{
		{"empty index", 0, 0},
		{"next entry on the second page", 600, 1}, // 600*8 bytes > 4 KiB
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var x mmapIndex
			path := filepath.Join(t.TempDir(), "0.index")
			if tt.entries > 0 { // a file holding entries already
				if err := x.openWritable(path, offsetEntrySize, 1<<20, 0); err != nil {
					t.Fatal(err)
				}
				x.close()
				waitPrefaults()
			}
			if err := x.openWritable(path, offsetEntrySize, 1<<20, tt.entries); err != nil {
				t.Fatal(err)
			}
			defer x.close()
			waitPrefaults()
			b := x.m.Load().b
			vec := make([]byte, len(b)/unix.Getpagesize())
			if _, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), uintptr(unsafe.Pointer(&vec[0]))); errno != 0 {
				t.Skipf("mincore: %v", errno)
			}
			if vec[tt.wantPage]&1 == 0 {
				t.Errorf("page %d not resident after prefault", tt.wantPage)
			}
		})
	}
	t.Run("close before the prefault runs", func(t *testing.T) {
		for range 50 {
			var x mmapIndex
			if err := x.openWritable(filepath.Join(t.TempDir(), "0.index"), offsetEntrySize, 1<<20, 0); err != nil {
				t.Fatal(err)
			}
			if err := x.close(); err != nil {
				t.Fatal(err)
			}
		}
		waitPrefaults()
	})
}
