package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/sluice-io/sluice/internal/model"
)

// Producer state snapshots (docs/format/producer-snapshot.md): the state of
// every idempotent producer of the partition as of an offset, in
// <offset, 20 digits>.snapshot files beside the segments, as Kafka keeps
// them. The storage layer only stores them; internal/replica owns the
// state, decides when to snapshot (SetSnapshotHooks) and rebuilds from the
// latest snapshot plus the batch headers after it (ScanBatchHeaders).
//
// Snapshots are an optimization: each carries a CRC, a bad or missing one
// only means a longer replay, so they are written without fsync. Open
// never reads them; LoadProducerSnapshot drops those past the log end
// (their data was lost in a crash or truncated).

const producerSnapshotSuffix = ".snapshot"

// MaxProducerSnapshotBatches is the number of batches kept per producer
// (Kafka's ProducerStateEntry.NUM_BATCHES_TO_RETAIN).
const MaxProducerSnapshotBatches = 5

// producerSnapshotVersion is the format version written.
const producerSnapshotVersion = 1

// ProducerSnapshotEntry is one producer's state in a snapshot. A plain
// value.
type ProducerSnapshotEntry struct {
	ProducerID            model.ProducerID
	Epoch                 model.ProducerEpoch
	CoordinatorEpoch      int32
	CurrentTxnFirstOffset model.Offset // -1 when no transaction is open
	LastTimestamp         int64
	// Batches are the producer's last batches, oldest first, at most
	// MaxProducerSnapshotBatches.
	Batches []ProducerSnapshotBatch
}

// ProducerSnapshotBatch describes one appended batch of a producer.
type ProducerSnapshotBatch struct {
	FirstSeq, LastSeq       int32
	FirstOffset, LastOffset model.Offset
	Timestamp               int64
}

const (
	snapHeaderSize = 2 + 4 + 8 + 4 // version, crc, offset, count
	snapEntrySize  = 8 + 2 + 4 + 8 + 8 + 1
	snapBatchSize  = 4 + 4 + 8 + 8 + 8
)

// castagnoli is the CRC32C table of the package's own files (producer
// snapshots, the written mark).
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errBadSnapshot marks a snapshot file that does not decode.
var errBadSnapshot = errors.New("bad producer snapshot")

// encodeProducerSnapshot renders a snapshot of entries taken at off.
func encodeProducerSnapshot(off model.Offset, entries []ProducerSnapshotEntry) []byte {
	size := snapHeaderSize
	for i := range entries {
		size += snapEntrySize + len(entries[i].Batches)*snapBatchSize
	}
	be := binary.BigEndian
	b := make([]byte, 6, size)
	be.PutUint16(b, producerSnapshotVersion)
	b = be.AppendUint64(b, uint64(off))
	b = be.AppendUint32(b, uint32(len(entries)))
	for i := range entries {
		e := &entries[i]
		b = be.AppendUint64(b, uint64(e.ProducerID))
		b = be.AppendUint16(b, uint16(e.Epoch))
		b = be.AppendUint32(b, uint32(e.CoordinatorEpoch))
		b = be.AppendUint64(b, uint64(e.CurrentTxnFirstOffset))
		b = be.AppendUint64(b, uint64(e.LastTimestamp))
		b = append(b, byte(len(e.Batches)))
		for _, bt := range e.Batches {
			b = be.AppendUint32(b, uint32(bt.FirstSeq))
			b = be.AppendUint32(b, uint32(bt.LastSeq))
			b = be.AppendUint64(b, uint64(bt.FirstOffset))
			b = be.AppendUint64(b, uint64(bt.LastOffset))
			b = be.AppendUint64(b, uint64(bt.Timestamp))
		}
	}
	be.PutUint32(b[2:], crc32.Checksum(b[6:], castagnoli))
	return b
}

// decodeProducerSnapshot parses a snapshot file's bytes; want is the
// offset its name gives.
func decodeProducerSnapshot(b []byte, want model.Offset) ([]ProducerSnapshotEntry, error) {
	be := binary.BigEndian
	if len(b) < snapHeaderSize {
		return nil, fmt.Errorf("%w: %d bytes", errBadSnapshot, len(b))
	}
	if v := be.Uint16(b); v != producerSnapshotVersion {
		return nil, fmt.Errorf("%w: version %d", errBadSnapshot, v)
	}
	if crc32.Checksum(b[6:], castagnoli) != be.Uint32(b[2:]) {
		return nil, fmt.Errorf("%w: crc mismatch", errBadSnapshot)
	}
	if off := model.Offset(be.Uint64(b[6:])); off != want {
		return nil, fmt.Errorf("%w: offset %d in a file named %d", errBadSnapshot, off, want)
	}
	n := int(be.Uint32(b[14:]))
	if n > (len(b)-snapHeaderSize)/snapEntrySize {
		return nil, fmt.Errorf("%w: %d entries in %d bytes", errBadSnapshot, n, len(b))
	}
	entries := make([]ProducerSnapshotEntry, n)
	p := b[snapHeaderSize:]
	for i := range entries {
		if len(p) < snapEntrySize {
			return nil, fmt.Errorf("%w: truncated entry %d", errBadSnapshot, i)
		}
		e := &entries[i]
		e.ProducerID = model.ProducerID(be.Uint64(p))
		e.Epoch = model.ProducerEpoch(be.Uint16(p[8:]))
		e.CoordinatorEpoch = int32(be.Uint32(p[10:]))
		e.CurrentTxnFirstOffset = model.Offset(be.Uint64(p[14:]))
		e.LastTimestamp = int64(be.Uint64(p[22:]))
		k := int(p[30])
		p = p[snapEntrySize:]
		if k > MaxProducerSnapshotBatches || len(p) < k*snapBatchSize {
			return nil, fmt.Errorf("%w: entry %d has %d batches", errBadSnapshot, i, k)
		}
		e.Batches = make([]ProducerSnapshotBatch, k)
		for j := range e.Batches {
			e.Batches[j] = ProducerSnapshotBatch{
				FirstSeq:    int32(be.Uint32(p)),
				LastSeq:     int32(be.Uint32(p[4:])),
				FirstOffset: model.Offset(be.Uint64(p[8:])),
				LastOffset:  model.Offset(be.Uint64(p[16:])),
				Timestamp:   int64(be.Uint64(p[24:])),
			}
			p = p[snapBatchSize:]
		}
	}
	if len(p) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", errBadSnapshot, len(p))
	}
	return entries, nil
}

// WriteProducerSnapshot stores entries as the producer state at off (all
// batches below off applied), replacing a snapshot at the same offset.
// The file is written to a .tmp name and renamed, without fsync (see the
// top of this file). Safe to call concurrently with appends.
func (l *Log) WriteProducerSnapshot(off model.Offset, entries []ProducerSnapshotEntry) error {
	name := filepath.Base(segmentName(l.dir, off, producerSnapshotSuffix))
	path := filepath.Join(l.dir, name)
	tmp := path + tmpSuffix
	err := writeFile(tmp, encodeProducerSnapshot(off, entries), 0o644)
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write producer snapshot %s: %w", name, err)
	}
	return nil
}

// ProducerSnapshotOffsets lists the offsets of the snapshot files, sorted.
func (l *Log) ProducerSnapshotOffsets() ([]model.Offset, error) {
	entries, err := os.ReadDir(l.dir)
	if err != nil {
		return nil, fmt.Errorf("list producer snapshots: %w", err)
	}
	var offs []model.Offset
	for _, e := range entries {
		stem, ok := strings.CutSuffix(e.Name(), producerSnapshotSuffix)
		if !ok || len(stem) != 20 {
			continue
		}
		if off, err := strconv.ParseInt(stem, 10, 64); err == nil && off >= 0 {
			offs = append(offs, model.Offset(off))
		}
	}
	slices.Sort(offs)
	return offs, nil
}

// LoadProducerSnapshot returns the latest readable snapshot at or below
// the log end offset. Snapshots above the log end and unreadable ones are
// deleted on the way (Kafka's truncateAndReload), so a later roll cannot
// be confused by them. found is false when no snapshot is usable: the
// caller replays from the log start.
func (l *Log) LoadProducerSnapshot() (off model.Offset, entries []ProducerSnapshotEntry, found bool, err error) {
	offs, err := l.ProducerSnapshotOffsets()
	if err != nil {
		return 0, nil, false, err
	}
	leo := l.LogEndOffset()
	for i := len(offs) - 1; i >= 0; i-- {
		path := segmentName(l.dir, offs[i], producerSnapshotSuffix)
		if offs[i] > leo {
			os.Remove(path)
			continue
		}
		b, err := readFile(path)
		if err != nil {
			return 0, nil, false, fmt.Errorf("read producer snapshot %d: %w", offs[i], err)
		}
		entries, err := decodeProducerSnapshot(b, offs[i])
		if err != nil {
			os.Remove(path) // torn by a crash: an older one or a replay will do
			continue
		}
		return offs[i], entries, true, nil
	}
	return 0, nil, false, nil
}

// deleteProducerSnapshotsBefore removes snapshots below off (the new
// first segment's base after retention), keeping the newest one even so:
// it still holds the state of producers whose batches are all gone
// (KIP-360 keeps such producers until producer.id.expiration.ms).
func (l *Log) deleteProducerSnapshotsBefore(off model.Offset) {
	offs, err := l.ProducerSnapshotOffsets()
	if err != nil || len(offs) == 0 {
		return
	}
	for _, o := range offs[:len(offs)-1] {
		if o < off {
			os.Remove(segmentName(l.dir, o, producerSnapshotSuffix))
		}
	}
}

// deleteProducerSnapshotsAfter removes snapshots above off (truncation:
// they describe batches that are gone).
func (l *Log) deleteProducerSnapshotsAfter(off model.Offset) {
	offs, err := l.ProducerSnapshotOffsets()
	if err != nil {
		return
	}
	for _, o := range offs {
		if o > off {
			os.Remove(segmentName(l.dir, o, producerSnapshotSuffix))
		}
	}
}
