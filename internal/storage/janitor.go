package storage

import (
	"cmp"
	"fmt"
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
//   - a budget: the descriptors and maps the open sets hold (counted as
//     they open and close) stay under half of RLIMIT_NOFILE and half of
//     vm.max_map_count, so the metadata log, the listener and connections
//     always find some. Past it, the janitor closes the least recently
//     used sets that no Chunk holds, down to three quarters of the
//     budget. Sets that Chunks hold cannot close, so at one and a half
//     budgets a new set is refused (ErrResourceExhausted) rather than
//     take what the rest of the process needs;
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
	start  time.Time
	// The descriptors and maps the open sets hold, and how many of each
	// they may hold before the least recently used close.
	fds, maps           atomic.Int64
	fdBudget, mapBudget atomic.Int64
	clock               atomic.Int64 // ms since start as of the last tick

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
		start:  time.Now(),
		open:   make(map[*segment]struct{}),
		kick:   make(chan struct{}, 1),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	if idle < 0 {
		j.idleMs = -1
	}
	fds, maps := defaultBudget()
	j.SetBudget(fds, maps)
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

// defaultBudget is what the open sets may hold: half the process's
// descriptors and half its maps.
func defaultBudget() (fds, maps int64) {
	nofile := uint64(1024)
	var l unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &l) == nil && l.Cur != unix.RLIM_INFINITY {
		nofile = l.Cur
	}
	maxMaps := uint64(65530)
	if b, err := os.ReadFile("/proc/sys/vm/max_map_count"); err == nil {
		if n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64); err == nil {
			maxMaps = n
		}
	}
	return int64(min(max(nofile/2, 8), math.MaxInt32)), int64(min(max(maxMaps/2, 8), math.MaxInt32))
}

// SetBudget replaces the descriptors and maps the open sets may hold
// before the least recently used close (tests; the default follows the
// process's limits).
func (j *FileJanitor) SetBudget(fds, maps int64) {
	j.fdBudget.Store(fds)
	j.mapBudget.Store(maps)
}

// addFDs and addMaps count what the open sets hold; nil-safe.
func (j *FileJanitor) addFDs(n int64) {
	if j != nil {
		j.fds.Add(n)
	}
}

func (j *FileJanitor) addMaps(n int64) {
	if j != nil {
		j.maps.Add(n)
	}
}

// over reports whether the open sets hold more than frac (in quarters) of
// the budget of descriptors or of maps.
func (j *FileJanitor) over(quarters int64) bool {
	return j.fds.Load()*4 > j.fdBudget.Load()*quarters || j.maps.Load()*4 > j.mapBudget.Load()*quarters
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
	j.mu.Unlock()
	if j.over(4) {
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
	FDs, Maps      int64 // descriptors and maps they hold
	ClosedIdle     int64 // closed after the idle time
	ClosedBudget   int64 // closed, least recently used first, over the budget
	ClosedPressure int64 // closed when the process ran out of descriptors or maps
}

// Stats returns the janitor's counts.
func (j *FileJanitor) Stats() JanitorStats {
	return JanitorStats{Open: j.OpenSets(), FDs: j.fds.Load(), Maps: j.maps.Load(), ClosedIdle: j.closedIdle.Load(),
		ClosedBudget: j.closedBudget.Load(), ClosedPressure: j.closedPressure.Load()}
}

// trim closes the least recently used sets that no Chunk holds while the
// open sets hold more than the budget, down to three quarters of it.
func (j *FileJanitor) trim(now int64) int {
	if !j.over(4) {
		return 0
	}
	type cand struct {
		s    *segment
		used int64
	}
	var cands []cand
	j.mu.Lock()
	for s := range j.open {
		if j.eligible(s, now, true) {
			cands = append(cands, cand{s, s.used.Load()})
		}
	}
	j.mu.Unlock()
	slices.SortFunc(cands, func(a, b cand) int { return cmp.Compare(a.used, b.used) })
	closed := 0
	ok := func(s *segment) bool { return j.eligible(s, now, true) }
	for _, c := range cands {
		if !j.over(3) {
			break
		}
		if c.s.closeIf(ok) {
			closed++
		}
	}
	return closed
}

// admit lets a new set open unless the open sets hold one and a half
// budgets and relief cannot close any.
func (j *FileJanitor) admit() error {
	for try := 0; ; try++ {
		if j.fds.Load()*2 < j.fdBudget.Load()*3 && j.maps.Load()*2 < j.mapBudget.Load()*3 {
			return nil
		}
		if try > 0 {
			return fmt.Errorf("%w: segment files hold %d descriptors and %d maps, the most this process affords (Chunks in flight hold them)",
				ErrResourceExhausted, j.fds.Load(), j.maps.Load())
		}
		j.relieve()
	}
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
