package storage

import (
	"bufio"
	"bytes"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/sluice-io/sluice/internal/model"
)

// cleanerCheckpointName is the per-partition cleaner checkpoint: the first
// dirty offset (Kafka keeps one cleaner-offset-checkpoint per log dir; one
// small file per partition keeps a partition directory self-contained).
const cleanerCheckpointName = "cleaner-checkpoint"

// cleanerState is a Log's compaction bookkeeping. Guarded by Log.mu.
type cleanerState struct {
	loaded bool // offset was read from the checkpoint file
	// offset is the first dirty offset: every offset below it went through
	// a cleaning pass. Persisted in cleaner-checkpoint.
	offset  model.Offset
	running bool // a pass is in progress (one at a time per log)
	// horizonMs is the earliest delete horizon of a cleaned batch that
	// still holds tombstones (0: none known), so Clean can remove them once
	// due even when the log is not dirty.
	horizonMs int64
	hook      func(cleanStep) error // test seam: a simulated crash point
}

// encodeCleanerCheckpoint renders the file, version 0:
//
//	version: 0
//	clean_offset: <int64>
func encodeCleanerCheckpoint(off model.Offset) []byte {
	return fmt.Appendf(nil, "version: 0\nclean_offset: %d\n", off)
}

// parseCleanerCheckpoint decodes the file; unknown keys are ignored.
func parseCleanerCheckpoint(b []byte) (model.Offset, error) {
	var off model.Offset
	seen := 0
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ": ")
		if !ok {
			return 0, fmt.Errorf("cleaner checkpoint: malformed line %q", sc.Text())
		}
		var err error
		switch key {
		case "version":
			if val != "0" {
				return 0, fmt.Errorf("cleaner checkpoint: unsupported version %q", val)
			}
			seen |= 1
		case "clean_offset":
			off, err = parseOffset(val)
			seen |= 2
		}
		if err != nil {
			return 0, fmt.Errorf("cleaner checkpoint: %s: %w", key, err)
		}
	}
	if seen != 3 {
		return 0, fmt.Errorf("cleaner checkpoint: missing version or clean_offset")
	}
	return off, nil
}

// loadCleanerLocked reads the checkpoint once. A missing or unreadable
// file reads as 0: the whole log counts as dirty, which only costs a pass.
func (l *Log) loadCleanerLocked() {
	if l.cleaner.loaded {
		return
	}
	l.cleaner.loaded = true
	b, err := readFile(filepath.Join(l.dir, cleanerCheckpointName))
	if err != nil {
		return
	}
	if off, err := parseCleanerCheckpoint(b); err == nil {
		l.cleaner.offset = off
	}
}

// setCleanerOffsetLocked durably moves the cleaner checkpoint to off.
func (l *Log) setCleanerOffsetLocked(off model.Offset) error {
	if err := writeFileAtomic(l.dir, cleanerCheckpointName, encodeCleanerCheckpoint(off)); err != nil {
		return err
	}
	l.cleaner.offset = off
	return nil
}

// lowerCleanerOffsetLocked keeps the cleaner checkpoint at or below the
// log end after a truncation, so batches appended again over the truncated
// range count as dirty (Kafka's maybeTruncateCheckpoint).
func (l *Log) lowerCleanerOffsetLocked(end model.Offset) error {
	l.loadCleanerLocked()
	if l.cleaner.offset <= end {
		return nil
	}
	return l.setCleanerOffsetLocked(end)
}
