package storage

import (
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// Background first write faults of new index mappings.
//
// On ext4 the first write fault into a newly created file's shared
// mapping costs milliseconds (the fault waits on the journal). It came in
// the append path: two of them, one per index, on the first indexed
// append of every new segment (issue 5: 6 ms per partition on the first
// produce to a new topic, serial on the connection's reader). So
// openWritable queues the page the next entry goes to, and a few
// short-lived workers take its fault with MADV_POPULATE_WRITE (Linux
// 5.14; an older kernel just takes the fault at the first append). An
// append that comes first shares the fault in progress. Workers exit when
// the queue is empty, so an idle broker runs none; a full queue (many
// thousands of partitions created at once) drops requests, which only
// leaves those faults to the appends.

const (
	maxPrefaultWorkers = 2    // each may block in a fault holding an OS thread
	maxPrefaultQueue   = 4096 // pending pages; more are left to the appends
)

type prefaultJob struct {
	x   *mmapIndex
	m   *mapping
	off int64
}

var prefaults struct {
	mu      sync.Mutex
	queue   []prefaultJob // guarded by mu
	workers int           // guarded by mu
}

// schedulePrefault queues the page of m holding byte off of x's mapping.
func schedulePrefault(x *mmapIndex, m *mapping, off int64) {
	p := &prefaults
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.queue) >= maxPrefaultQueue {
		return
	}
	p.queue = append(p.queue, prefaultJob{x, m, off})
	if p.workers < maxPrefaultWorkers {
		p.workers++
		go prefaultWorker()
	}
}

func prefaultWorker() {
	p := &prefaults
	for {
		p.mu.Lock()
		if len(p.queue) == 0 {
			p.workers--
			p.queue = nil // drop the grown array
			p.mu.Unlock()
			return
		}
		j := p.queue[0]
		p.queue[0] = prefaultJob{}
		p.queue = p.queue[1:]
		p.mu.Unlock()
		j.x.prefault(j.m, j.off)
	}
}

// prefault populates the page of m holding byte off, writable, unless the
// index was remapped, trimmed or closed meanwhile. It holds mu, so close
// never unmaps under it. Populating never changes the file's contents.
func (x *mmapIndex) prefault(m *mapping, off int64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.m.Load() != m || x.maxEntries == 0 {
		return
	}
	ps := int64(os.Getpagesize())
	page := off / ps * ps
	_ = unix.Madvise(m.b[page:min(page+ps, int64(len(m.b)))], unix.MADV_POPULATE_WRITE)
}
