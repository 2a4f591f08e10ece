package runtime

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/sluice-io/sluice/internal/batch"
	"github.com/sluice-io/sluice/internal/model"
)

// loadReadBytes is how much of the partition one read during load asks
// for.
const loadReadBytes = 1 << 20

// Options configure a shard.
type Options struct {
	// Clock is the time source; nil is the wall clock.
	Clock Clock
	// Logger receives the shard's warnings; nil discards them.
	Logger *slog.Logger
	// OnFailure is called (on its own goroutine) once a write to the
	// log failed and the shard stopped; the owner reloads the shard.
	OnFailure func(error)
}

// Shard is one loaded coordinator partition. Safe for concurrent use:
// operations are serialized.
type Shard struct {
	log       Log
	m         Machine
	clock     Clock
	logger    *slog.Logger
	onFailure func(error)
	ctx       context.Context // canceled by Close: durability waits end
	cancel    context.CancelFunc

	mu      sync.Mutex
	closed  bool              // guarded by mu
	timers  map[string]*timer // guarded by mu
	builder *batch.Builder    // guarded by mu
}

// Load replays log into m and returns the running shard, after
// m.Loaded ran. ctx bounds the replay and the shard's durability waits,
// the one of what m.Loaded writes included: a load whose first write
// cannot commit (its partition's followers are gone) ends when its slot
// unloads instead of holding the broker's shutdown forever.
func Load(ctx context.Context, log Log, m Machine, opts Options) (*Shard, error) {
	DefaultClockLogger(&opts.Clock, &opts.Logger)
	if err := replay(ctx, log, m, opts.Logger); err != nil {
		return nil, err
	}
	s := &Shard{log: log, m: m, clock: opts.Clock, logger: opts.Logger, onFailure: opts.OnFailure,
		timers: map[string]*timer{}, builder: batch.NewBuilder(batch.NewBatchInfo(batch.CodecNone))}
	s.ctx, s.cancel = context.WithCancel(ctx)
	if err := s.Run(m.Loaded); err != nil {
		// Closed, not just canceled: Loaded armed the machine's timers,
		// and a shard nobody holds would go on running them, writing to
		// the log from its own copy of the state beside the shard of the
		// next load (found by the fault suite: one node aborted the same
		// timed-out transaction twice, a second apart, from two shards).
		s.Close()
		return nil, err
	}
	return s, nil
}

// replay feeds every data record from the log start to the current log
// end into m. A record (or marker) that m cannot apply, or a batch whose
// records cannot be read, is skipped with an error log and counted
// (SkippedRecords): one bad record must not keep a coordinator from ever
// loading its partition again. Only a failed read of the log stops it.
func replay(ctx context.Context, log Log, m Machine, logger *slog.Logger) error {
	from, end := log.LogStartOffset(), log.LogEndOffset()
	var r batch.Reader
	var buf []byte
	size := loadReadBytes
	for from < end {
		if err := ctx.Err(); err != nil {
			return err
		}
		var err error
		if buf, err = log.ReadBatches(buf[:0], from, size); err != nil {
			return fmt.Errorf("read offset %d: %w", from, err)
		}
		if len(buf) == 0 {
			break // nothing readable up to the end (a high watermark below it)
		}
		next := replayBatches(&r, buf, from, m, logger)
		switch {
		case next > from:
			from, size = next, loadReadBytes
		case len(buf) >= batch.HeaderSize && size < int(batch.Header(buf).Size()):
			size = batch.Header(buf).Size() // a batch larger than one read
		default:
			return fmt.Errorf("read offset %d: no progress below log end %d", from, end)
		}
	}
	return nil
}

// replayBatches replays the whole batches in buf at or past from and
// returns the offset after the last one.
func replayBatches(r *batch.Reader, buf []byte, from model.Offset, m Machine, logger *slog.Logger) model.Offset {
	next := from
	for len(buf) >= batch.HeaderSize {
		h := batch.Header(buf)
		n := h.Size()
		if n < batch.HeaderSize || n > len(buf) {
			break // a partial batch at the end of the read
		}
		if model.Offset(h.NextOffset()) > next && h.IsControl() {
			if err := replayControl(r, buf[:n], m); err != nil { // txn.go
				skipped(logger, "marker", h.BaseOffset(), err)
			}
		} else if model.Offset(h.NextOffset()) > next {
			err := r.Records(buf[:n], func(rec *batch.Record) error {
				if model.Offset(rec.Offset) < from {
					return nil
				}
				if err := replayOne(m, h, rec); err != nil {
					skipped(logger, "record", rec.Offset, err)
				}
				return nil
			})
			if err != nil {
				skipped(logger, "batch", h.BaseOffset(), err)
			}
		}
		next = max(next, model.Offset(h.NextOffset()))
		buf = buf[n:]
	}
	return next
}

// replayOne replays one record; a panic is an error like any other
// record the machine cannot apply.
func replayOne(m Machine, h batch.Header, rec *batch.Record) (err error) {
	defer func() {
		if r := recover(); r != nil {
			panics.Add(1)
			err = fmt.Errorf("replay panicked: %v\n%s", r, debug.Stack())
		}
	}()
	return m.Replay(h, rec)
}

// skippedRecords counts what replays skipped, process-wide.
var skippedRecords atomic.Int64

// SkippedRecords is how many records, markers and unreadable batches
// coordinator loads have skipped since the process started (a metric).
func SkippedRecords() int64 { return skippedRecords.Load() }

func skipped(logger *slog.Logger, what string, off int64, err error) {
	skippedRecords.Add(1)
	logger.Error("coordinator load skips a "+what+" it cannot apply", "offset", off, "err", err)
}

// Run executes op with the shard's state, appends what it wrote as one
// batch, and returns once the log is durable up to its end, after running
// the op's Then callbacks. The error is ErrClosed, ErrFailed (wrapping
// the cause) or the durability wait's.
func (s *Shard) Run(op func(w *Writer)) error { return s.Submit(op)() }

// Submit is Run in two steps: it executes op and appends its records now,
// on the caller's goroutine (so a connection's requests take effect in
// the order it sent them), and returns the wait for durability, which
// runs the op's Then callbacks and returns Run's error.
func (s *Shard) Submit(op func(w *Writer)) (wait func() error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return func() error { return ErrClosed }
	}
	w := &Writer{s: s, now: s.clock.Now()}
	err := s.runOpLocked(op, w)
	if err == nil {
		err = s.appendLocked(w)
	}
	if err != nil {
		s.closeLocked()
	}
	end := s.log.LogEndOffset()
	s.mu.Unlock()
	if err != nil {
		err = fmt.Errorf("%w: %w", ErrFailed, err)
		s.logger.Error("coordinator write", "err", err)
		s.cancel()
		if s.onFailure != nil {
			go s.onFailure(err)
		}
	}
	return func() error {
		if err == nil {
			if err = s.log.WaitCommitted(s.ctx, end); err != nil && s.ctx.Err() != nil {
				err = ErrClosed
			}
		}
		for _, f := range w.then {
			f(err)
		}
		return err
	}
}

// runOpLocked runs op. A panic in it (a bug, or input no check caught)
// may have left the machine half-changed: it is logged with its stack,
// counted (Panics), and fails the shard like a failed write, so the
// request gets an error and the shard reloads from its durable log
// instead of serving broken state or killing the broker.
func (s *Shard) runOpLocked(op func(w *Writer), w *Writer) (err error) {
	defer func() {
		if r := recover(); r != nil {
			panics.Add(1)
			s.logger.Error("coordinator operation panicked; the shard reloads from its log", "panic", r, "stack", string(debug.Stack()))
			err = fmt.Errorf("operation panicked: %v", r)
		}
	}()
	op(w)
	return nil
}

// panics counts recovered panics of shard operations and replays,
// process-wide.
var panics atomic.Int64

// Panics is how many shard operations and replayed records panicked
// since the process started (a metric).
func Panics() int64 { return panics.Load() }

// Close stops the shard: timers are dropped, the machine answers what
// waits (Unloaded), later ops fail with ErrClosed and durability waits in
// flight end with it. Close is idempotent.
func (s *Shard) Close() {
	s.mu.Lock()
	s.closeLocked()
	s.mu.Unlock()
	s.cancel()
}

func (s *Shard) closeLocked() {
	if s.closed {
		return
	}
	s.closed = true
	for k, t := range s.timers {
		t.t.Stop()
		delete(s.timers, k)
	}
	s.m.Unloaded()
}
