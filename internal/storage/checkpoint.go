package storage

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/sluice-io/sluice/internal/model"
)

// logCheckpointName is the per-partition checkpoint of the log start
// offset, the recovery point and the clean-shutdown marker (Kafka keeps the
// first two in per-directory files and the marker as .kafka_cleanshutdown;
// one small file per partition keeps a partition self-contained).
const logCheckpointName = "log-checkpoint"

// checkpoint is the content of log-checkpoint, version 0:
//
//	version: 0
//	log_start_offset: <int64>
//	recovery_point: <int64>
//	clean_shutdown: <true|false>
//	active_segment: <base offset> <size in bytes>
//
// clean_shutdown is true only when written by Close; it is trusted at Open
// only if the last segment still has that base and exactly that size, so a
// later run that appended and crashed before writing a new checkpoint is
// still recovered.
type checkpoint struct {
	logStartOffset model.Offset
	recoveryPoint  model.Offset
	clean          bool
	activeBase     model.Offset
	activeSize     int64
}

func (c checkpoint) encode() []byte {
	return fmt.Appendf(nil, "version: 0\nlog_start_offset: %d\nrecovery_point: %d\nclean_shutdown: %t\nactive_segment: %d %d\n",
		c.logStartOffset, c.recoveryPoint, c.clean, c.activeBase, c.activeSize)
}

// parseCheckpoint decodes log-checkpoint. Unknown keys are ignored, so a
// later version can add lines; a missing required line is an error.
func parseCheckpoint(b []byte) (checkpoint, error) {
	var c checkpoint
	seen := 0
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ": ")
		if !ok {
			return c, fmt.Errorf("log checkpoint: malformed line %q", sc.Text())
		}
		var err error
		switch key {
		case "version":
			if val != "0" {
				return c, fmt.Errorf("log checkpoint: unsupported version %q", val)
			}
			seen |= 1
		case "log_start_offset":
			c.logStartOffset, err = parseOffset(val)
			seen |= 2
		case "recovery_point":
			c.recoveryPoint, err = parseOffset(val)
			seen |= 4
		case "clean_shutdown":
			c.clean, err = strconv.ParseBool(val)
		case "active_segment":
			base, size, _ := strings.Cut(val, " ")
			if c.activeBase, err = parseOffset(base); err == nil {
				c.activeSize, err = strconv.ParseInt(size, 10, 64)
			}
		}
		if err != nil {
			return c, fmt.Errorf("log checkpoint: %s: %w", key, err)
		}
	}
	if seen != 7 {
		return c, fmt.Errorf("log checkpoint: missing version, log_start_offset or recovery_point")
	}
	return c, nil
}

func parseOffset(s string) (model.Offset, error) {
	v, err := strconv.ParseInt(s, 10, 64)
	if err == nil && v < 0 {
		err = fmt.Errorf("negative offset %d", v)
	}
	return model.Offset(v), err
}

// writeCheckpoint durably writes log-checkpoint with the current log start
// offset and recovery point; c carries the clean-shutdown fields. The file
// is left alone when it already holds exactly that (a partition that took
// no write since a clean start closes without an fsync).
func (l *Log) writeCheckpoint(c checkpoint) error {
	l.ckMu.Lock()
	defer l.ckMu.Unlock()
	c.logStartOffset = model.Offset(l.lso.Load())
	c.recoveryPoint = l.flush.durableOffset()
	if !l.ckOnDisk.known || c != l.ckOnDisk.ck {
		if err := writeFileAtomic(l.dir, logCheckpointName, c.encode()); err != nil {
			return err
		}
		l.ckOnDisk.ck, l.ckOnDisk.known = c, true
	}
	segs := l.segments()
	l.ckRecoveryBase = segs[floorSegment(segs, c.recoveryPoint)].base
	return nil
}
