package sysio

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestReadAtReadsCachedBytesAndReportsEOF(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	data := bytes.Repeat([]byte("0123456789"), 1000)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 4000)
	if n, err := ReadAt(f, b, 5003); n != len(b) || err != nil || !bytes.Equal(b, data[5003:9003]) {
		t.Fatalf("ReadAt(5003) = %d, %v; bytes equal %v", n, err, bytes.Equal(b, data[5003:9003]))
	}
	// Past the end: the short read comes back as f.ReadAt reports it.
	if n, err := ReadAt(f, b, 9000); n != 1000 || err != io.EOF || !bytes.Equal(b[:n], data[9000:]) {
		t.Fatalf("ReadAt(9000) = %d, %v; want 1000, EOF", n, err)
	}
	f.Close()
	if _, err := ReadAt(f, b, 0); err == nil {
		t.Fatal("ReadAt of a closed file succeeded")
	}
}

func TestWriteAtWritesAtOffsets(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	big := bytes.Repeat([]byte("b"), maxRawWrite+1) // the ordinary call
	small := []byte("small raw write")
	if n, err := WriteAt(f, small, 0); n != len(small) || err != nil {
		t.Fatalf("WriteAt(small) = %d, %v", n, err)
	}
	if n, err := WriteAt(f, big, int64(len(small))); n != len(big) || err != nil {
		t.Fatalf("WriteAt(big) = %d, %v", n, err)
	}
	if n, err := WriteAt(f, small, int64(len(small)+len(big))); n != len(small) || err != nil {
		t.Fatalf("WriteAt(small, at the end) = %d, %v", n, err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := append(append(append([]byte(nil), small...), big...), small...)
	if !bytes.Equal(got, want) {
		t.Fatalf("file holds %d bytes, not the %d written in order", len(got), len(want))
	}
	ro, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, err := WriteAt(ro, small, 0); err == nil {
		t.Fatal("WriteAt to a read-only file succeeded")
	}
	ro.Close()
	if _, err := WriteAt(ro, small, 0); err == nil {
		t.Fatal("WriteAt to a closed file succeeded")
	}
}

// WriteAt's breaker counts the thread's voluntary switches: a sleep must
// show as one.
func TestVoluntarySwitchesCountsASleep(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	before := voluntarySwitches()
	ts := unix.NsecToTimespec(int64(time.Millisecond))
	if err := unix.Nanosleep(&ts, nil); err != nil {
		t.Fatal(err)
	}
	if after := voluntarySwitches(); after <= before {
		t.Fatalf("voluntary switches %d before a 1 ms sleep, %d after", before, after)
	}
}
