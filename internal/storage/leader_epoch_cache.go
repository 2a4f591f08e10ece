package storage

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/sluice-io/sluice/internal/model"
)

// leaderEpochCheckpointName is Kafka's leader epoch file.
const leaderEpochCheckpointName = "leader-epoch-checkpoint"

// Undefined values of OffsetForLeaderEpoch (Kafka's UNDEFINED_EPOCH and
// UNDEFINED_EPOCH_OFFSET).
const (
	UndefinedEpoch       model.LeaderEpoch = -1
	UndefinedEpochOffset model.Offset      = -1
)

// EpochEntry says that leader epoch Epoch wrote its first batch at
// StartOffset.
type EpochEntry struct {
	Epoch       model.LeaderEpoch
	StartOffset model.Offset
}

// leaderEpochCache is Kafka's LeaderEpochFileCache (KIP-101, KIP-279): the
// start offset of every leader epoch in the log, in increasing order of both
// epoch and offset, persisted in leader-epoch-checkpoint on every change.
//
// Not safe for concurrent use; the Log guards it with Log.mu.
type leaderEpochCache struct {
	path    string
	entries []EpochEntry
}

func (c *leaderEpochCache) latest() (EpochEntry, bool) {
	if len(c.entries) == 0 {
		return EpochEntry{}, false
	}
	return c.entries[len(c.entries)-1], true
}

// latestEpoch returns the newest epoch, or UndefinedEpoch.
func (c *leaderEpochCache) latestEpoch() model.LeaderEpoch {
	if e, ok := c.latest(); ok {
		return e.Epoch
	}
	return UndefinedEpoch
}

// assign records that epoch starts at start, dropping entries that would
// break monotonicity (Kafka's assign). It reports whether anything changed.
func (c *leaderEpochCache) assign(epoch model.LeaderEpoch, start model.Offset) bool {
	if epoch < 0 || start < 0 {
		return false
	}
	if last, ok := c.latest(); ok && last.Epoch == epoch && start >= last.StartOffset {
		return false
	}
	keep := len(c.entries)
	for keep > 0 && (c.entries[keep-1].Epoch >= epoch || c.entries[keep-1].StartOffset >= start) {
		keep--
	}
	c.entries = append(c.entries[:keep], EpochEntry{Epoch: epoch, StartOffset: start})
	return true
}

// truncateFromEnd drops the epochs that start at or after end.
func (c *leaderEpochCache) truncateFromEnd(end model.Offset) bool {
	keep := len(c.entries)
	for keep > 0 && c.entries[keep-1].StartOffset >= end {
		keep--
	}
	changed := keep != len(c.entries)
	c.entries = c.entries[:keep]
	return changed
}

// truncateFromStart drops the epochs that start at or before start, except
// the last of them, which now starts at start.
func (c *leaderEpochCache) truncateFromStart(start model.Offset) bool {
	n := 0
	for n < len(c.entries) && c.entries[n].StartOffset <= start {
		n++
	}
	if n == 0 || (n == 1 && c.entries[0].StartOffset == start) {
		return false
	}
	first := EpochEntry{Epoch: c.entries[n-1].Epoch, StartOffset: start}
	c.entries = append([]EpochEntry{first}, c.entries[n:]...)
	return true
}

// endOffsetFor answers OffsetForLeaderEpoch as Kafka's endOffsetFor does:
// for the latest epoch the log end offset; for an older epoch the largest
// epoch <= requested and the start offset of the next epoch after it.
func (c *leaderEpochCache) endOffsetFor(requested model.LeaderEpoch, logEnd model.Offset) (model.LeaderEpoch, model.Offset) {
	if requested == UndefinedEpoch {
		return UndefinedEpoch, UndefinedEpochOffset
	}
	if last, ok := c.latest(); ok && last.Epoch == requested {
		return requested, logEnd
	}
	higher := 0
	for higher < len(c.entries) && c.entries[higher].Epoch <= requested {
		higher++
	}
	if higher == len(c.entries) {
		return UndefinedEpoch, UndefinedEpochOffset
	}
	if higher == 0 {
		return requested, c.entries[0].StartOffset
	}
	return c.entries[higher-1].Epoch, c.entries[higher].StartOffset
}

// encode renders Kafka's checkpoint file format: version, entry count, then
// one "epoch startOffset" line per entry.
func (c *leaderEpochCache) encode() []byte {
	b := fmt.Appendf(nil, "0\n%d\n", len(c.entries))
	for _, e := range c.entries {
		b = fmt.Appendf(b, "%d %d\n", e.Epoch, e.StartOffset)
	}
	return b
}

func parseLeaderEpochCheckpoint(b []byte) ([]EpochEntry, error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	next := func() (string, bool) { ok := sc.Scan(); return strings.TrimSpace(sc.Text()), ok }
	if v, ok := next(); !ok || v != "0" {
		return nil, fmt.Errorf("leader-epoch-checkpoint: unsupported version %q", v)
	}
	v, _ := next()
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return nil, fmt.Errorf("leader-epoch-checkpoint: bad entry count %q", v)
	}
	entries := make([]EpochEntry, 0, min(n, 1024))
	for i := 0; i < n; i++ {
		line, ok := next()
		fields := strings.Fields(line)
		if !ok || len(fields) != 2 {
			return nil, fmt.Errorf("leader-epoch-checkpoint: entry %d: malformed line %q", i, line)
		}
		epoch, err1 := strconv.ParseInt(fields[0], 10, 32)
		off, err2 := strconv.ParseInt(fields[1], 10, 64)
		if err1 != nil || err2 != nil || epoch < 0 || off < 0 {
			return nil, fmt.Errorf("leader-epoch-checkpoint: entry %d: malformed line %q", i, line)
		}
		e := EpochEntry{Epoch: model.LeaderEpoch(epoch), StartOffset: model.Offset(off)}
		if k := len(entries); k > 0 && (entries[k-1].Epoch >= e.Epoch || entries[k-1].StartOffset > e.StartOffset) {
			return nil, fmt.Errorf("leader-epoch-checkpoint: entry %d not increasing", i)
		}
		entries = append(entries, e)
	}
	return entries, nil
}

// load reads the checkpoint; a missing file is an empty cache.
func (c *leaderEpochCache) load(dir string) error {
	c.path = filepath.Join(dir, leaderEpochCheckpointName)
	b, err := readFile(c.path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read leader-epoch-checkpoint: %w", err)
	}
	c.entries, err = parseLeaderEpochCheckpoint(b)
	return err
}

// persist durably writes the checkpoint.
func (c *leaderEpochCache) persist() error {
	return writeFileAtomic(filepath.Dir(c.path), leaderEpochCheckpointName, c.encode())
}

// LeaderEpochs returns a copy of the leader epoch entries, oldest first.
func (l *Log) LeaderEpochs() []EpochEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]EpochEntry(nil), l.epochs.entries...)
}

// AssignEpoch records that epoch starts at start (a new leader does this
// with its log end offset). The checkpoint is replaced at once and
// fsynced by the next sync round, as for an epoch the append path adds
// (leader_epoch_lazy.go): becoming leader of many partitions at once
// costs no fsync each.
func (l *Log) AssignEpoch(epoch model.LeaderEpoch, start model.Offset) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.writableLocked(); err != nil {
		return err
	}
	return l.maybeAssignEpochLocked(epoch, start)
}

// EndOffsetForEpoch answers OffsetForLeaderEpoch (KIP-101/279): the largest
// epoch <= epoch this log knows and the offset where it ended.
func (l *Log) EndOffsetForEpoch(epoch model.LeaderEpoch) (model.LeaderEpoch, model.Offset) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.epochs.endOffsetFor(epoch, l.next)
}
