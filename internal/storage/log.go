package storage

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sluice-io/sluice/internal/model"
)

// Log is one partition's log: a directory of segments, indexes and
// checkpoints.
//
// Log is safe for concurrent use. Writers (appends, rolls, truncation,
// retention, config changes) are serialized by mu. Readers never lock: they
// load the segment list, the log end and start offsets and each segment's
// size from atomics published by the writer after the bytes are written, so
// a read never sees a partial batch.
//
// Invariant: firstSegment.base <= LogStartOffset <= LogEndOffset, and the
// segments' base offsets increase, each at or above the previous segment's
// next offset. Invariant: RecoveryPoint <= LogEndOffset.
type Log struct {
	dir     string
	topicID model.TopicID
	files   *fileOwner // shared with the segments (files.go)

	// Test seams, set before the Log is shared.
	nowMs     func() int64
	fsync     func(*os.File) error
	onSync    func() // called once per group-commit round
	scanBytes atomic.Int64

	segs  atomic.Pointer[[]*segment] // copy-on-write, replaced under mu
	leo   atomic.Int64               // LogEndOffset
	lso   atomic.Int64               // LogStartOffset
	bytes atomic.Int64               // sum of segment sizes
	shut  atomic.Bool                // set when Close releases the segments
	// snapHooks: producer state snapshots (snapshot_hooks.go).
	snapHooks atomic.Pointer[SnapshotHooks]

	mu             sync.Mutex // serializes writers; guards the fields below
	cfg            Config
	next           model.Offset // == leo, for the writer
	epochs         leaderEpochCache
	closed         bool // Close started: no more writes
	filesClosed    bool // Close finished: no more syncs
	failed         error
	unflushed      int64       // records appended since the last sync snapshot
	flushArmed     bool        // a flush.ms timer is pending
	flushTimer     *time.Timer // valid when flushArmed
	markArmed      bool        // a written-mark timer is pending (written_mark.go)
	markTimer      *time.Timer // valid when markArmed
	needIndexSync  []*segment  // rolled segments whose indexes are not yet synced
	dirDirty       bool        // files were created, renamed or removed
	epochsDirty    bool        // leader-epoch-checkpoint replaced without fsync (leader_epoch_lazy.go)
	fsBegun        uint64      // cfg.FSSync.Begun() after the last append: a later round covers it
	pendingDeletes map[*segment]*time.Timer
	cleaner        cleanerState // compaction bookkeeping (cleaner_checkpoint.go)

	ckMu sync.Mutex // serializes checkpoint writes; guards ckRecoveryBase and ckOnDisk
	// ckRecoveryBase is the base of the segment holding the recovery point
	// last written to the checkpoint.
	ckRecoveryBase model.Offset
	// ckOnDisk is what log-checkpoint durably holds, when known.
	ckOnDisk struct {
		ck    checkpoint
		known bool
	}

	flush flusher

	bg sync.WaitGroup // roll flushes, flush.ms timers, delayed deletes
}

func newLog(dir string, topicID model.TopicID, cfg Config) *Log {
	cfg = cfg.normalized()
	l := &Log{
		dir:            dir,
		topicID:        topicID,
		files:          newFileOwner(cfg.Janitor, cfg.FileDeleteDelayMs),
		cfg:            cfg,
		nowMs:          func() int64 { return time.Now().UnixMilli() },
		fsync:          fdatasync,
		pendingDeletes: make(map[*segment]*time.Timer),
	}
	return l
}

func fdatasync(f *os.File) error { return unix.Fdatasync(int(f.Fd())) }

// Create makes a new, empty log in dir, which must not exist yet; its parent
// is created if needed. topicID is written to partition.metadata.
func Create(dir string, topicID model.TopicID, cfg Config) (*Log, error) {
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Errorf("create log %s: %w", dir, err)
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create log %s: %w", dir, err)
	}
	l, err := create(dir, topicID, cfg)
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("create log %s: %w", dir, err)
	}
	return l, nil
}

func create(dir string, topicID model.TopicID, cfg Config) (*Log, error) {
	if err := writePartitionMetadata(dir, topicID); err != nil {
		return nil, err
	}
	l := newLog(dir, topicID, cfg)
	l.epochs.path = filepath.Join(dir, leaderEpochCheckpointName)
	if err := l.epochs.persist(); err != nil {
		return nil, err
	}
	s, err := createSegment(dir, 0, l.files, l.cfg, l.nowMs())
	if err != nil {
		return nil, err
	}
	l.publish([]*segment{s})
	if err := l.writeCheckpoint(checkpoint{}); err != nil {
		s.release()
		return nil, err
	}
	if err := syncDir(filepath.Dir(dir)); err != nil {
		s.release()
		return nil, err
	}
	return l, nil
}

// publish installs a new segment list (under mu or before sharing).
func (l *Log) publish(segs []*segment) { l.segs.Store(&segs) }

// segments returns the current segment list; do not modify it.
func (l *Log) segments() []*segment { return *l.segs.Load() }

// active returns the last segment. Called under mu.
func (l *Log) active() *segment { s := l.segments(); return s[len(s)-1] }

// Dir returns the partition directory.
func (l *Log) Dir() string { return l.dir }

// TopicID returns the topic id from partition.metadata.
func (l *Log) TopicID() model.TopicID { return l.topicID }

// LogStartOffset is the first offset a consumer may read.
func (l *Log) LogStartOffset() model.Offset { return model.Offset(l.lso.Load()) }

// LogEndOffset is the offset the next appended record gets.
func (l *Log) LogEndOffset() model.Offset { return model.Offset(l.leo.Load()) }

// Size is the number of bytes of all segment files (DescribeLogDirs).
func (l *Log) Size() int64 { return l.bytes.Load() }

// RecoveryPoint is the offset below which every batch is known to be on
// stable storage.
func (l *Log) RecoveryPoint() model.Offset { return l.flush.durableOffset() }

// SetConfig replaces the configuration. Segment and index sizes apply to
// segments created from now on; the janitor stays the one the log was
// made with.
func (l *Log) SetConfig(cfg Config) {
	l.mu.Lock()
	l.cfg = cfg.normalized()
	l.files.holdMs.Store(l.cfg.FileDeleteDelayMs)
	l.mu.Unlock()
}

// writableLocked returns why the log cannot take a write, if it cannot.
func (l *Log) writableLocked() error {
	if l.closed {
		return ErrClosed
	}
	if l.failed != nil {
		return fmt.Errorf("%w: %w", ErrLogFailed, l.failed)
	}
	return nil
}

// failLocked records an I/O error that leaves the log in doubt.
func (l *Log) failLocked(err error) {
	if l.failed == nil {
		l.failed = err
	}
}

// Close flushes everything, writes the clean-shutdown checkpoint and closes
// the files. Chunks returned by Read must not be used after Close.
func (l *Log) Close() error {
	if !l.shut.Load() {
		l.closing() // producer state snapshot, before any lock (snapshot_hooks.go)
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	l.closed = true
	l.stopTimersLocked()
	l.mu.Unlock()
	l.finishPendingDeletes()
	l.bg.Wait()
	err := l.shutdown()
	l.mu.Lock()
	l.filesClosed = true
	l.shut.Store(true)
	l.mu.Unlock()
	for _, s := range l.segments() {
		s.release()
	}
	return err
}

// stopTimersLocked cancels the flush.ms and written-mark timers that have
// not fired yet. Called under mu once closed is set (no new ones arm).
func (l *Log) stopTimersLocked() {
	if l.flushArmed && l.flushTimer.Stop() {
		l.flushArmed = false
		l.bg.Done()
	}
	if l.markArmed && l.markTimer.Stop() {
		l.markArmed = false
		l.bg.Done()
	}
}

// shutdown makes the active segment's indexes final, syncs everything and
// writes the clean-shutdown checkpoint. Called by Close only.
func (l *Log) shutdown() error {
	l.mu.Lock()
	s := l.active()
	failed := l.failed
	var err error
	if failed == nil {
		err = s.finish()
		l.needIndexSync = append(l.needIndexSync, s)
	}
	l.mu.Unlock()
	if failed != nil {
		return fmt.Errorf("close log %s: %w: %w", l.dir, ErrLogFailed, failed)
	}
	if err == nil {
		err = l.syncNow()
	}
	if err == nil {
		err = l.writeCheckpoint(checkpoint{clean: true, activeBase: s.base, activeSize: s.size.Load()})
	}
	if err != nil {
		return fmt.Errorf("close log %s: %w", l.dir, err)
	}
	return nil
}

// Delete closes the log and removes its directory.
func (l *Log) Delete() error {
	err := l.Close()
	if err != nil && !errors.Is(err, ErrClosed) && !errors.Is(err, ErrLogFailed) {
		return err
	}
	if err := os.RemoveAll(l.dir); err != nil {
		return fmt.Errorf("delete log %s: %w", l.dir, err)
	}
	return syncDir(filepath.Dir(l.dir))
}
