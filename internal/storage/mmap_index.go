package storage

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// mapping is one mmap of an index file. It is published through an atomic
// pointer so lookups never take a lock.
type mapping struct{ b []byte }

// mmapIndex is the machinery shared by the offset and time indexes: a file of
// fixed-size big-endian entries, memory-mapped as Kafka's AbstractIndex does.
//
// The index of the active segment is writable: its file is extended (sparse)
// to segment.index.bytes and mapped read-write; entries are written into the
// mapping, the first one into each page by pwrite (publish says why), and
// published by storing the entry count. On roll and close the
// file is trimmed to its entries while the mapping stays in place (readers
// only touch entries below the count, which stay inside the file). Indexes of
// older segments are mapped read-only on first use.
//
// The maps and the descriptor belong to the segment's file set (files.go):
// they are made only while a set is pinned, and close tears them down
// when the set closes, keeping the entry count, the capacity and the path,
// so the next set maps the index as it was (reopenWritable, or load).
//
// Safe for concurrent use by one writer (under Log.mu) and any number of
// readers. The caller guarantees no reader runs once close has started (the
// file set's pin count does).
type mmapIndex struct {
	acct      *FileJanitor // counts the descriptor and maps; nil without one (immutable)
	entrySize int64
	m         atomic.Pointer[mapping] // nil until loaded
	n         atomic.Int64            // valid entries

	// Writer only (slot, publish): the entry being appended, and the end
	// of the pages a pwrite of publish has put in the page cache.
	next [16]byte
	warm int64

	mu   sync.Mutex // guards the fields below and loading m
	path string     // renamed *.deleted with its segment
	file *os.File   // open while writable, and until synced after trim
	// maxEntries is the capacity while the index takes entries, 0 once
	// trimmed. Written under mu by the writer, which reads it without.
	maxEntries int64
	retired    []*mapping // older mappings, unmapped at close
	// dirty: writable since the last sync; sync reaches the file by path
	// when its descriptor was closed meanwhile.
	dirty bool
}

// openReadOnly prepares a lazily mapped, read-only index of size bytes.
func (x *mmapIndex) openReadOnly(path string, entrySize, size int64) {
	x.path, x.entrySize = path, entrySize
	x.n.Store(size / entrySize)
}

// prepareWritable sets the index up to take entries, room for maxBytes of
// them, keeping the first entries; nothing is opened (reopenWritable maps
// it under the writer's file set).
func (x *mmapIndex) prepareWritable(path string, entrySize, maxBytes, entries int64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.path, x.entrySize = path, entrySize
	x.maxEntries = max(maxBytes/entrySize, entries)
	x.n.Store(entries)
}

// setCapacity makes a trimmed index take entries again, room for maxBytes
// of them (a truncation made its segment the active one again).
func (x *mmapIndex) setCapacity(maxBytes int64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.maxEntries = max(maxBytes/x.entrySize, x.n.Load())
}

// stopEntries stops accepting entries without touching the file (its
// entries are already exact on disk).
func (x *mmapIndex) stopEntries() {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.maxEntries = 0
}

// openWritable maps path read-write with room for maxBytes of entries,
// keeping the first entries entries already in the file (or creating it).
func (x *mmapIndex) openWritable(path string, entrySize, maxBytes, entries int64) error {
	x.prepareWritable(path, entrySize, maxBytes, entries)
	x.mu.Lock()
	defer x.mu.Unlock()
	// A rebuild starts empty: drop any stale content before extending.
	return x.mapWritableLocked(entries == 0)
}

// reopenWritable maps the index read-write at its capacity, keeping its
// entries (the active segment's set was closed while idle).
func (x *mmapIndex) reopenWritable() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.mapWritableLocked(false)
}

func (x *mmapIndex) mapWritableLocked(reset bool) error {
	if x.file == nil {
		f, err := openFile(x.path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return fmt.Errorf("open index: %w", err)
		}
		x.file = f
		x.acct.addFDs(1)
	}
	x.dirty = true
	size := x.maxEntries * x.entrySize
	if reset {
		if err := x.file.Truncate(0); err != nil {
			return fmt.Errorf("reset index %s: %w", x.path, err)
		}
	}
	if fi, err := x.file.Stat(); err != nil || fi.Size() != size {
		if err := x.file.Truncate(size); err != nil {
			return fmt.Errorf("resize index %s: %w", x.path, err)
		}
	}
	var b []byte
	if size > 0 {
		var err error
		b, err = mmapFile(x.file, 0, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
		if err != nil {
			return fmt.Errorf("map index: %w", err)
		}
		x.acct.addMaps(1)
	}
	if old := x.m.Load(); old != nil {
		x.retired = append(x.retired, old)
	}
	x.warm = 0
	x.m.Store(&mapping{b: b})
	return nil
}

// view returns the mapped bytes and the number of valid entries in them.
// A mapping that cannot be loaded reads as empty: lookups then fall back to
// the start of the segment, which is slower but still correct. Call it with
// the segment's file set pinned.
func (x *mmapIndex) view() ([]byte, int) {
	m := x.m.Load()
	if m == nil {
		m = x.load()
	}
	n := x.n.Load()
	return m.b, int(min(n, int64(len(m.b))/x.entrySize))
}

// load maps the index read-only. A failure is not kept: the next view
// tries again (the process may have been out of descriptors for a moment).
func (x *mmapIndex) load() *mapping {
	x.mu.Lock()
	defer x.mu.Unlock()
	if m := x.m.Load(); m != nil {
		return m
	}
	size := int(x.n.Load() * x.entrySize)
	if size == 0 {
		m := &mapping{}
		x.m.Store(m)
		return m
	}
	f, err := openFile(x.path, os.O_RDONLY, 0)
	if err != nil {
		return &mapping{}
	}
	defer f.Close() // the mapping outlives the descriptor
	b, err := mmapFile(f, 0, size, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return &mapping{}
	}
	x.acct.addMaps(1)
	m := &mapping{b: b}
	x.m.Store(m)
	return m
}

// slot returns a buffer for the next entry; publish writes it. The caller
// checks full.
func (x *mmapIndex) slot() []byte { return x.next[:x.entrySize] }

// publish writes the entry filled in through slot and makes it visible to
// readers.
//
// The first entry that reaches into a page goes in by pwrite; the others
// are stored into the mapping (MAP_SHARED: one page cache either way). A
// store into a page the file does not have yet takes a write fault that
// allocates it, and on ext4 the first such fault of a new file costs
// milliseconds (it waits on the journal). That hit the first indexed
// append of every new segment twice (both indexes: 6 ms per partition at
// the first produce to a new topic) and recovery, which rebuilds the
// indexes of every segment it scans (issue 5: most of a 12 s restart
// after kill -9 with 1,000 partitions). Once pwrite has put a page in the
// page cache, its fault is microseconds, and a store per entry is cheaper
// than a pwrite per entry. A failed pwrite publishes nothing: an index is
// sparse, and a lookup falls back to an earlier entry.
func (x *mmapIndex) publish() {
	off := x.n.Load() * x.entrySize
	end := off + x.entrySize
	if end <= x.warm {
		copy(x.m.Load().b[off:end], x.next[:x.entrySize])
	} else {
		if _, err := x.file.WriteAt(x.next[:x.entrySize], off); err != nil {
			return
		}
		ps := int64(os.Getpagesize())
		x.warm = (end + ps - 1) / ps * ps
	}
	x.n.Add(1)
}

// entries returns the number of valid entries.
func (x *mmapIndex) entries() int64 { return x.n.Load() }

// truncateEntries keeps the first n entries.
func (x *mmapIndex) truncateEntries(n int64) { x.n.Store(min(n, x.n.Load())) }

// setPath follows a rename of the file (a segment renamed *.deleted), so
// a later load maps the right file.
func (x *mmapIndex) setPath(path string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.path = path
}

// trim shrinks the file to its valid entries and stops accepting entries.
// The descriptor stays open until sync.
func (x *mmapIndex) trim() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.maxEntries = 0
	x.dirty = true
	size := x.n.Load() * x.entrySize
	var err error
	if x.file != nil {
		err = x.file.Truncate(size)
	} else {
		err = os.Truncate(x.path, size)
	}
	if err != nil {
		return fmt.Errorf("trim index %s: %w", x.path, err)
	}
	return nil
}

// sync makes the entries durable (msync, then fdatasync for the size) and,
// once the index is no longer writable, closes its descriptor. A
// descriptor closed with its file set is reopened by path to sync. A nil
// fsync means a syncfs covered the file: only the descriptor is closed.
func (x *mmapIndex) sync(fsync func(*os.File) error) error {
	x.mu.Lock()
	if x.file == nil {
		dirty, path := x.dirty, x.path
		x.dirty = false
		x.mu.Unlock()
		if !dirty || fsync == nil {
			return nil
		}
		// Outside mu: the open may relieve, which closes other sets.
		if err := syncPath(path, fsync); err != nil {
			x.mu.Lock()
			x.dirty = true
			x.mu.Unlock()
			return err
		}
		return nil
	}
	defer x.mu.Unlock()
	if fsync != nil {
		if m := x.m.Load(); m != nil && len(m.b) > 0 {
			if n := x.n.Load() * x.entrySize; n > 0 {
				if err := unix.Msync(m.b[:pageCeil(n, len(m.b))], unix.MS_SYNC); err != nil {
					return fmt.Errorf("msync index %s: %w", x.path, err)
				}
			}
		}
		if err := fsync(x.file); err != nil {
			return fmt.Errorf("sync index %s: %w", x.path, err)
		}
	}
	x.dirty = false
	if x.maxEntries == 0 {
		err := x.file.Close()
		x.file = nil
		x.acct.addFDs(-1)
		return err
	}
	return nil
}

// pageCeil rounds n up to a page, capped at limit (msync wants whole pages).
func pageCeil(n int64, limit int) int {
	p := int64(os.Getpagesize())
	return int(min((n+p-1)/p*p, int64(limit)))
}

// close unmaps and closes everything, keeping the entry count, capacity
// and path (its file set closes). No reader may run concurrently.
func (x *mmapIndex) close() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	var first error
	for _, m := range append(x.retired, x.m.Load()) {
		if m != nil && m.b != nil {
			if err := unix.Munmap(m.b); err != nil && first == nil {
				first = err
			}
			x.acct.addMaps(-1)
		}
	}
	x.retired = nil
	x.m.Store(nil)
	if x.file != nil {
		if err := x.file.Close(); err != nil && first == nil {
			first = err
		}
		x.file = nil
		x.acct.addFDs(-1)
	}
	return first
}
