package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"

	"github.com/sluice-io/sluice/internal/model"
)

// The transaction index (docs/format/txn-index.md): per segment, a
// <base>.txnindex file listing the transactions aborted by an ABORT marker
// that lies in the segment, in marker order, in Kafka's layout (34-byte
// entries: version, producer id, first offset, last offset, last stable
// offset). read_committed fetches read it to tell consumers which
// producers' records in the returned range to drop (KIP-98).
//
// The file is created by the first entry. Entries are kept in memory once
// the index is first used (a segment's aborted transactions are few), and
// each append opens the file for one write(2) (no descriptor stays open
// per segment); the file is fsynced with the segment's other indexes (a
// rolled segment's flush, Close). The replica
// re-appends the entries of every ABORT marker it replays after its
// producer snapshot, so an entry lost in a crash comes back (AppendAbortedTxn
// is idempotent).

const (
	txnIndexSuffix   = ".txnindex"
	txnEntrySize     = 34
	txnIndexVersion0 = 0
)

// AbortedTxn is one aborted transaction of a partition (Kafka's
// AbortedTxn). A plain value.
type AbortedTxn struct {
	ProducerID model.ProducerID
	// FirstOffset is the first offset the transaction wrote to the
	// partition; LastOffset the offset of its ABORT marker.
	FirstOffset, LastOffset model.Offset
	// LastStableOffset is the partition's last stable offset once the
	// transaction was aborted: no transaction still open then starts
	// below it.
	LastStableOffset model.Offset
}

// errTxnIndexReplaced: an append reached the index of a segment that a
// cleaned segment replaced; AppendAbortedTxn retries on the new list.
var errTxnIndexReplaced = errors.New("transaction index of a replaced segment")

// txnIndex is a segment's aborted-transaction index. Safe for concurrent
// use: mu guards everything.
type txnIndex struct {
	mu      sync.Mutex
	loaded  bool         // guarded by mu
	entries []AbortedTxn // guarded by mu; by LastOffset
	dirty   bool         // guarded by mu; written since the last sync
	closed  bool         // guarded by mu
	// replaced is set when a cleaned segment took this segment's place:
	// the file name now belongs to the cleaned segment, so the entries
	// stay in memory for readers that pinned this segment and appends
	// are refused (errTxnIndexReplaced). Guarded by mu.
	replaced bool
}

func (s *segment) txnIndexPath() string { return segmentName(s.dir, s.base, txnIndexSuffix) }

// loadLocked reads the file once. A partial or unknown-version entry at
// the end (a torn write) is cut, on disk too.
func (x *txnIndex) loadLocked(path string) error {
	if x.loaded {
		return nil
	}
	b, err := readFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("read %s: %w", path, err)
	}
	entries, good := decodeTxnEntries(b)
	if good != len(b) {
		if err := os.Truncate(path, int64(good)); err != nil {
			return fmt.Errorf("truncate %s: %w", path, err)
		}
	}
	x.entries, x.loaded = entries, true
	return nil
}

// decodeTxnEntries decodes whole version-0 entries and returns how many
// bytes they cover.
func decodeTxnEntries(b []byte) ([]AbortedTxn, int) {
	var out []AbortedTxn
	good := 0
	be := binary.BigEndian
	for len(b)-good >= txnEntrySize {
		e := b[good : good+txnEntrySize]
		if int16(be.Uint16(e)) != txnIndexVersion0 {
			break
		}
		out = append(out, AbortedTxn{
			ProducerID:       model.ProducerID(be.Uint64(e[2:])),
			FirstOffset:      model.Offset(be.Uint64(e[10:])),
			LastOffset:       model.Offset(be.Uint64(e[18:])),
			LastStableOffset: model.Offset(be.Uint64(e[26:])),
		})
		good += txnEntrySize
	}
	return out, good
}

func encodeTxnEntry(dst []byte, e AbortedTxn) []byte {
	be := binary.BigEndian
	dst = be.AppendUint16(dst, txnIndexVersion0)
	dst = be.AppendUint64(dst, uint64(e.ProducerID))
	dst = be.AppendUint64(dst, uint64(e.FirstOffset))
	dst = be.AppendUint64(dst, uint64(e.LastOffset))
	return be.AppendUint64(dst, uint64(e.LastStableOffset))
}

// append adds e unless an entry for the same producer and marker is there.
func (x *txnIndex) append(path string, e AbortedTxn) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.closed {
		return ErrClosed
	}
	if x.replaced {
		return errTxnIndexReplaced
	}
	if err := x.loadLocked(path); err != nil {
		return err
	}
	i, _ := slices.BinarySearchFunc(x.entries, e.LastOffset, func(a AbortedTxn, off model.Offset) int {
		return cmpOffset(a.LastOffset, off)
	})
	for j := i; j < len(x.entries) && x.entries[j].LastOffset == e.LastOffset; j++ {
		if x.entries[j].ProducerID == e.ProducerID {
			return nil // replayed marker: already indexed
		}
	}
	if i < len(x.entries) {
		// Out of order (a replayed marker): keep the file sorted.
		entries := slices.Insert(slices.Clone(x.entries), i, e)
		if err := x.writeLocked(path, entries, 0); err != nil {
			return err
		}
		x.entries = entries
		return nil
	}
	if err := x.writeLocked(path, []AbortedTxn{e}, int64(len(x.entries))*txnEntrySize); err != nil {
		return err
	}
	x.entries = append(x.entries, e)
	return nil
}

// writeLocked writes entries into the file at off.
func (x *txnIndex) writeLocked(path string, entries []AbortedTxn, off int64) error {
	b := make([]byte, 0, len(entries)*txnEntrySize)
	for _, e := range entries {
		b = encodeTxnEntry(b, e)
	}
	f, err := openFile(path, os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	_, err = f.WriteAt(b, off)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	x.dirty = true
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func cmpOffset(a, b model.Offset) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// truncateTo drops the entries whose marker is at or after off.
func (x *txnIndex) truncateTo(path string, off model.Offset) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if err := x.loadLocked(path); err != nil {
		return err
	}
	n := len(x.entries)
	for n > 0 && x.entries[n-1].LastOffset >= off {
		n--
	}
	if n == len(x.entries) {
		return nil
	}
	x.entries = x.entries[:n]
	if err := os.Truncate(path, int64(n)*txnEntrySize); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("truncate %s: %w", path, err)
	}
	x.dirty = true
	return nil
}

// collect appends to dst the entries that overlap [from, upper) and
// reports whether the search is complete: an entry whose last stable
// offset reaches upper proves no later entry can overlap (Kafka's
// TransactionIndex.collectAbortedTxns).
func (x *txnIndex) collect(path string, dst []AbortedTxn, from, upper model.Offset) ([]AbortedTxn, bool, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if err := x.loadLocked(path); err != nil {
		return dst, false, err
	}
	for _, e := range x.entries {
		if e.LastOffset >= from && e.FirstOffset < upper {
			dst = append(dst, e)
		}
		if e.LastStableOffset >= upper {
			return dst, true, nil
		}
	}
	return dst, false, nil
}

// sync makes the file durable if it was written since the last sync; a
// nil fsync means a syncfs did.
func (x *txnIndex) sync(path string, fsync func(*os.File) error) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if !x.dirty {
		return nil
	}
	if fsync != nil {
		if err := syncPath(path, fsync); err != nil {
			return err
		}
	}
	x.dirty = false
	return nil
}

// close makes later appends fail (the segment is closed for good).
func (x *txnIndex) close() {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.closed = true
}

// AppendAbortedTxn records an aborted transaction in the transaction index
// of the segment that holds its marker (e.LastOffset, already appended).
// It is idempotent: an entry for the same producer and marker is kept
// once. It takes no Log lock, except to wait for a cleaner swap that
// replaced the segment (the swap publishes the new segment list under
// mu); a segment deleted meanwhile is skipped.
func (l *Log) AppendAbortedTxn(e AbortedTxn) error {
	for {
		segs := l.segments()
		s := segs[floorSegment(segs, e.LastOffset)]
		if e.LastOffset < s.base || !s.acquire() {
			return nil // removed by retention: nothing left to index
		}
		err := s.txnIdx.append(s.txnIndexPath(), e)
		s.release()
		if !errors.Is(err, errTxnIndexReplaced) {
			return err
		}
		// The swap holds mu until the new list is published, or the
		// log failed.
		l.mu.Lock()
		err = l.writableLocked()
		l.mu.Unlock()
		if err != nil {
			return err
		}
	}
}

// AbortedTxns returns the aborted transactions that overlap the records a
// read from `from` returns when it stops before upTo (a read_committed
// fetch: upTo is the last stable offset). A read stays within the segment
// holding from, so the range ends at the next segment's base; the
// transaction indexes are searched from that segment on, because an
// abort marker follows its transaction's records.
func (l *Log) AbortedTxns(from, upTo model.Offset) ([]AbortedTxn, error) {
	segs := l.segments()
	i := floorSegment(segs, from)
	upper := upTo
	if i+1 < len(segs) {
		upper = min(upper, segs[i+1].base)
	}
	return collectAbortedTxns(segs, from, upper)
}

// collectAbortedTxns returns the entries of segs' transaction indexes
// that overlap [from, upper), searching from the segment holding from
// (Kafka's LocalLog.collectAbortedTransactions).
func collectAbortedTxns(segs []*segment, from, upper model.Offset) ([]AbortedTxn, error) {
	var out []AbortedTxn
	for i := floorSegment(segs, from); i < len(segs); i++ {
		s := segs[i]
		if !s.acquire() {
			continue // deleted under us: its entries are below the log start
		}
		var done bool
		var err error
		out, done, err = s.txnIdx.collect(s.txnIndexPath(), out, from, upper)
		s.release()
		if err != nil {
			return nil, err
		}
		if done {
			break
		}
	}
	return out, nil
}

// load reads the file, if not done yet.
func (x *txnIndex) load(path string) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.loadLocked(path)
}

// markReplaced marks the index, loaded, as that of a segment a cleaned
// segment replaces (see replaced). Called under Log.mu.
func (x *txnIndex) markReplaced() {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.replaced = true
}

// install sets the entries of a cleaned segment's index, whose file the
// cleaner wrote (not yet under its final name).
func (x *txnIndex) install(entries []AbortedTxn) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.entries, x.loaded = slices.Clone(entries), true
}

// size is the number of entries loaded.
func (x *txnIndex) size() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	return len(x.entries)
}

// writeTxnIndexFile writes entries, in Kafka's layout, as a new file at
// path and syncs it; zero entries make an empty file.
func writeTxnIndexFile(path string, entries []AbortedTxn, fsync func(*os.File) error) error {
	b := make([]byte, 0, len(entries)*txnEntrySize)
	for _, e := range entries {
		b = encodeTxnEntry(b, e)
	}
	f, err := openFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = fsync(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// truncateTxnIndex drops the segment's index entries at or after off
// (recovery cut a torn tail, or follower truncation).
func (s *segment) truncateTxnIndex(off model.Offset) error {
	return s.txnIdx.truncateTo(s.txnIndexPath(), off)
}

// txnIndexEntries returns a copy of the segment's entries (tests, tools).
func (s *segment) txnIndexEntries() ([]AbortedTxn, error) {
	s.txnIdx.mu.Lock()
	defer s.txnIdx.mu.Unlock()
	if err := s.txnIdx.loadLocked(s.txnIndexPath()); err != nil {
		return nil, err
	}
	return slices.Clone(s.txnIdx.entries), nil
}
