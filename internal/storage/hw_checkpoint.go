package storage

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/sluice-io/sluice/internal/model"
)

// HWCheckpointName is the high watermark checkpoint of a data directory
// (Kafka's replication-offset-checkpoint, docs/format/log.md, in the
// directory that holds the partition directories): the high
// watermark of every partition replica in the directory, as of the last
// checkpoint. A replica that restarts never starts above it, so it cannot
// serve records that were not committed when it stopped.
const HWCheckpointName = "replication-offset-checkpoint"

// WriteHWCheckpoint replaces dir's high watermark checkpoint durably. The
// format is Kafka's: a version line (0), a count line, then one
// "<topic> <partition> <offset>" line per partition, sorted.
func WriteHWCheckpoint(dir string, hws map[model.TopicPartition]model.Offset) error {
	tps := make([]model.TopicPartition, 0, len(hws))
	for tp := range hws {
		tps = append(tps, tp)
	}
	slices.SortFunc(tps, func(a, b model.TopicPartition) int {
		if c := strings.Compare(a.Topic, b.Topic); c != 0 {
			return c
		}
		return int(a.Partition) - int(b.Partition)
	})
	b := fmt.Appendf(nil, "0\n%d\n", len(tps))
	for _, tp := range tps {
		b = fmt.Appendf(b, "%s %d %d\n", tp.Topic, tp.Partition, hws[tp])
	}
	return writeFileAtomic(dir, HWCheckpointName, b)
}

// ReadHWCheckpoint reads dir's high watermark checkpoint; no file is an
// empty map.
func ReadHWCheckpoint(dir string) (map[model.TopicPartition]model.Offset, error) {
	data, err := os.ReadFile(filepath.Join(dir, HWCheckpointName))
	if errors.Is(err, os.ErrNotExist) {
		return map[model.TopicPartition]model.Offset{}, nil
	}
	if err != nil {
		return nil, err
	}
	return parseHWCheckpoint(data)
}

func parseHWCheckpoint(data []byte) (map[model.TopicPartition]model.Offset, error) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	bad := func(line string) error {
		return fmt.Errorf("%s: malformed line %q", HWCheckpointName, line)
	}
	var header [2]int
	for i := range header {
		if !sc.Scan() {
			return nil, bad("")
		}
		n, err := strconv.Atoi(sc.Text())
		if err != nil || n < 0 {
			return nil, bad(sc.Text())
		}
		header[i] = n
	}
	if header[0] != 0 {
		return nil, fmt.Errorf("%s: unsupported version %d", HWCheckpointName, header[0])
	}
	out := make(map[model.TopicPartition]model.Offset, min(header[1], 1<<16))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 {
			return nil, bad(sc.Text())
		}
		p, err1 := strconv.ParseInt(f[1], 10, 32)
		off, err2 := strconv.ParseInt(f[2], 10, 64)
		if err1 != nil || err2 != nil || p < 0 || off < 0 {
			return nil, bad(sc.Text())
		}
		out[model.TopicPartition{Topic: f[0], Partition: int32(p)}] = model.Offset(off)
	}
	if len(out) != header[1] {
		return nil, fmt.Errorf("%s: %d entries, the header says %d", HWCheckpointName, len(out), header[1])
	}
	return out, sc.Err()
}
