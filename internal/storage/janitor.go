package storage

import (
	"cmp"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// FileJanitor closes the file sets (files.go) of segments nobody used for
// a while, for every log whose Config names it: one goroutine per
// process, started by NewFileJanitor and stopped by Close.
//
// A set closes once it is unpinned, unused for the idle time
// (sluice.log.idle.close.ms) and has handed out no Chunk for the log's
// file.delete.delay.ms (a Chunk's promised life). Two more rules keep the
// process's descriptors and maps for everyone:
//
//   - a budget: the sets open stay under a share of the process's limits
//     (half of RLIMIT_NOFILE at three descriptors a set, half of
//     vm.max_map_count at two maps a set), so the metadata log, the
//     listener and connections always find descriptors. Past it, the
//     janitor closes the least recently used sets that no Chunk holds,
//     down to three quarters of the budget;
//   - relief: when an open or a map fails because the process is out of
//     descriptors or maps, every janitor of the process closes at once
//     the sets that no Chunk holds, used or not, and the open is tried
//     once more (files_limit.go).
//
// Uses are stamped with a coarse clock the janitor advances every tick,
// so an unpin pays two atomic loads, not a clock read; a stamp may lag the
// truth by a tick, so the idle time is waited a tick longer. A Chunk
// handed out reads the clock (monotonic, tens of nanoseconds): its
// promise is exact.
//
// Safe for concurrent use.
type FileJanitor struct {
	idleMs int64 // < 0: sets close only under pressure
	tickMs int64
	budget int // most sets open before the least recently used close
	start  time.Time
	clock  atomic.Int64 // ms since start as of the last tick

	mu   sync.Mutex
	open map[*segment]struct{} // segments whose set is open

	closedIdle     atomic.Int64
	closedBudget   atomic.Int64
	closedPressure atomic.Int64

	kick chan struct{} // the budget is exceeded
	stop chan struct{}
	done chan struct{}
}

// NewFileJanitor starts a janitor that closes sets idle for idle; a
// negative idle closes them only when the process runs out of descriptors
// or maps.
func NewFileJanitor(idle time.Duration) *FileJanitor {
	j := &FileJanitor{
		idleMs: idle.Milliseconds(),
		budget: defaultBudget(),
		start:  time.Now(),
		open:   make(map[*segment]struct{}),
		kick:   make(chan struct{}, 1),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	if idle < 0 {
		j.idleMs = -1
	}
	// A tick of an eighth of the idle time, between 1 ms and 1 s: sets
	// close at most 1/8 late, and a janitor of a minute wakes once a second.
	j.tickMs = min(max(j.idleMs/8, 1), 1000)
	registerJanitor(j)
	go j.run()
	return j
}

// Close stops the janitor; the sets it tracks stay as they are (their
// logs close them). Close the logs first.
func (j *FileJanitor) Close() {
	unregisterJanitor(j)
	close(j.stop)
	<-j.done
}

func (j *FileJanitor) run() {
	defer close(j.done)
	t := time.NewTicker(time.Duration(j.tickMs) * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-j.stop:
			return
		case <-t.C:
		case <-j.kick:
		}
		now := j.advance()
		if j.idleMs >= 0 {
			j.closedIdle.Add(int64(j.sweep(now, false)))
		}
		j.closedBudget.Add(int64(j.trim(now)))
	}
}

// defaultBudget is the sets the process can afford: half its descriptors
// at three a set (the active segment's log and two indexes), half its
// maps at two a set.
func defaultBudget() int {
	fds := uint64(1024)
	var l unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &l) == nil && l.Cur != unix.RLIM_INFINITY {
		fds = l.Cur
	}
	maps := uint64(65530)
	if b, err := os.ReadFile("/proc/sys/vm/max_map_count"); err == nil {
		if n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64); err == nil {
			maps = n
		}
	}
	return int(max(min(fds/2/3, maps/2/2, math.MaxInt32), 4))
}

// SetBudget replaces the most sets kept open (tests; the default follows
// the process's limits).
func (j *FileJanitor) SetBudget(n int) {
	j.mu.Lock()
	j.budget = n
	j.mu.Unlock()
}

// now is the janitor's time in ms, read from the clock (not the coarse
// clock).
func (j *FileJanitor) now() int64 { return time.Since(j.start).Milliseconds() }

// advance moves the coarse clock to now and returns it.
func (j *FileJanitor) advance() int64 {
	now := j.now()
	for {
		c := j.clock.Load()
		if c >= now || j.clock.CompareAndSwap(c, now) {
			return max(c, now)
		}
	}
}

// track registers s, whose set was just opened, and returns the time to
// stamp it with. Called under s.filesMu.
func (j *FileJanitor) track(s *segment) int64 {
	now := j.advance() // the clock may be a tick old after a quiet spell
	j.mu.Lock()
	j.open[s] = struct{}{}
	over := len(j.open) > j.budget
	j.mu.Unlock()
	if over {
		select {
		case j.kick <- struct{}{}:
		default:
		}
	}
	return now
}

// untrack forgets s, whose set was closed. Called under s.filesMu.
func (j *FileJanitor) untrack(s *segment) {
	j.mu.Lock()
	delete(j.open, s)
	j.mu.Unlock()
}

// OpenSets is the number of segments with an open file set.
func (j *FileJanitor) OpenSets() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.open)
}

// JanitorStats counts the sets a janitor closed.
type JanitorStats struct {
	Open           int   // sets open now
	ClosedIdle     int64 // closed after the idle time
	ClosedBudget   int64 // closed, least recently used first, over the budget
	ClosedPressure int64 // closed when the process ran out of descriptors or maps
}

// Stats returns the janitor's counts.
func (j *FileJanitor) Stats() JanitorStats {
	return JanitorStats{Open: j.OpenSets(), ClosedIdle: j.closedIdle.Load(),
		ClosedBudget: j.closedBudget.Load(), ClosedPressure: j.closedPressure.Load()}
}

// trim closes the least recently used sets that no Chunk holds while more
// than the budget are open, down to three quarters of it.
func (j *FileJanitor) trim(now int64) int {
	j.mu.Lock()
	excess := len(j.open) - j.budget*3/4
	if len(j.open) <= j.budget {
		excess = 0
	}
	type cand struct {
		s    *segment
		used int64
	}
	var cands []cand
	if excess > 0 {
		for s := range j.open {
			if j.eligible(s, now, true) {
				cands = append(cands, cand{s, s.used.Load()})
			}
		}
	}
	j.mu.Unlock()
	slices.SortFunc(cands, func(a, b cand) int { return cmp.Compare(a.used, b.used) })
	closed := 0
	ok := func(s *segment) bool { return j.eligible(s, now, true) }
	for _, c := range cands {
		if closed >= excess {
			break
		}
		if c.s.closeIf(ok) {
			closed++
		}
	}
	return closed
}

// relieve closes every open set that is unpinned and holds no Chunk
// (used or not), at once, and returns how many it closed.
func (j *FileJanitor) relieve() int {
	n := j.sweep(j.advance(), true)
	j.closedPressure.Add(int64(n))
	return n
}

// sweep closes the sets eligible at now. The candidates are chosen under
// mu, closed without it: closing takes each segment's filesMu, which
// track holds while it takes mu.
func (j *FileJanitor) sweep(now int64, pressure bool) int {
	j.mu.Lock()
	var cands []*segment
	for s := range j.open {
		if j.eligible(s, now, pressure) {
			cands = append(cands, s)
		}
	}
	j.mu.Unlock()
	closed := 0
	ok := func(s *segment) bool { return j.eligible(s, now, pressure) }
	for _, s := range cands {
		if s.closeIf(ok) {
			closed++
		}
	}
	return closed
}

// eligible reports whether s's set may close at now (the janitor's
// clock, not the coarse one): no Chunk handed out within the log's
// file.delete.delay.ms (0 promises nothing, as for deleted segments) and,
// unless under pressure, no use within the idle time. Chunk stamps are
// exact to the millisecond; use stamps may lag a tick, so the idle time
// gets one more.
func (j *FileJanitor) eligible(s *segment, now int64, pressure bool) bool {
	if hold := s.owner.holdMs.Load(); hold > 0 && now-s.chunked.Load() <= hold {
		return false
	}
	return pressure || now-s.used.Load() >= j.idleMs+j.tickMs
}

// janitors are the running janitors of the process: descriptors and maps
// are a process-wide budget, so relief asks all of them.
var janitors struct {
	mu  sync.Mutex
	all map[*FileJanitor]struct{}
}

func registerJanitor(j *FileJanitor) {
	janitors.mu.Lock()
	defer janitors.mu.Unlock()
	if janitors.all == nil {
		janitors.all = make(map[*FileJanitor]struct{})
	}
	janitors.all[j] = struct{}{}
}

func unregisterJanitor(j *FileJanitor) {
	janitors.mu.Lock()
	defer janitors.mu.Unlock()
	delete(janitors.all, j)
}

// relieveAll asks every janitor of the process to close what it can and
// returns how many sets closed.
func relieveAll() int {
	janitors.mu.Lock()
	all := make([]*FileJanitor, 0, len(janitors.all))
	for j := range janitors.all {
		all = append(all, j)
	}
	janitors.mu.Unlock()
	n := 0
	for _, j := range all {
		n += j.relieve()
	}
	return n
}
