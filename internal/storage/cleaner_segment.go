package storage

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/sluice-io/sluice/internal/batch"
	"github.com/sluice-io/sluice/internal/model"
)

// cleanedName is the name of a cleaned segment's file while it is written.
func cleanedName(dir string, base model.Offset, suffix string) string {
	return segmentName(dir, base, suffix+cleanedSuffix)
}

// groupBySize splits segs[:k] into runs that each become one cleaned
// segment (Kafka's groupSegmentsBySize): a run's log bytes stay within
// segment.bytes, each index's bytes within segment.index.bytes, and its
// offsets within a relative offset of the run's base. segs goes on past k
// (at least the active segment), so every segment's end is the next base.
func groupBySize(segs []*segment, k int, cfg Config) [][]*segment {
	var groups [][]*segment
	for i := 0; i < k; {
		j := i + 1
		logBytes, offBytes, timeBytes := segSizes(segs[i])
		for j < k {
			lb, ob, tb := segSizes(segs[j])
			lastOff := segs[j+1].base - 1
			if logBytes+lb > cfg.SegmentBytes || offBytes+ob > int64(cfg.SegmentIndexBytes) ||
				timeBytes+tb > int64(cfg.SegmentIndexBytes) || (lb > 0 && lastOff-segs[i].base > math.MaxInt32) {
				break
			}
			logBytes, offBytes, timeBytes = logBytes+lb, offBytes+ob, timeBytes+tb
			j++
		}
		groups = append(groups, segs[i:j])
		i = j
	}
	return groups
}

func segSizes(s *segment) (logBytes, offBytes, timeBytes int64) {
	return s.size.Load(), s.offIdx.entries() * offsetEntrySize, s.timeIdx.entries() * timeEntrySize
}

// activeProducers returns, for every producer in segs whose last batch is
// younger than the producer id expiration, the last offset of the batch a
// pass keeps for it (Kafka's lastRecordsOfActiveProducers, from the batch
// headers): its last data batch, which holds its last sequence number, or,
// when segs hold no data batch of it, its last marker, which holds its
// epoch.
func (p *cleanPass) activeProducers(segs []*segment) (map[int64]model.Offset, error) {
	type last struct {
		data, marker model.Offset // -1: none
		ts           int64
	}
	seen := map[int64]*last{}
	for _, s := range segs {
		err := s.walkHeaders(func(b batchInfo, h batch.Header) {
			if pid := h.ProducerID(); pid >= 0 {
				v := seen[pid]
				if v == nil {
					v = &last{data: -1, marker: -1}
					seen[pid] = v
				}
				if h.IsControl() {
					v.marker = b.last
				} else {
					v.data = b.last
				}
				v.ts = b.maxTs
			}
		})
		if err != nil {
			return nil, err
		}
	}
	active := make(map[int64]model.Offset, len(seen))
	for pid, v := range seen {
		if p.nowMs-v.ts >= producerIDExpirationMs {
			continue
		}
		if v.data >= 0 {
			active[pid] = v.data
		} else {
			active[pid] = v.marker
		}
	}
	return active, nil
}

// walkHeaders calls fn with every batch header of s, in order.
func (s *segment) walkHeaders(fn func(batchInfo, batch.Header)) error {
	fs, err := s.pin()
	if err != nil {
		return err
	}
	defer s.unpin(fs)
	r := newHeaderReader(fs.log, s.base, s.size.Load())
	defer r.done()
	for pos := int64(0); ; {
		b, err := r.at(pos)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		fn(b, batch.Header(r.buf[pos-r.bufPos:])) // at left the header in the reader's buffer
		pos += b.size
	}
}

// cleanAndSwap cleans one group and swaps it in. done is false when the
// log changed under the pass (the cleaned files are then removed).
func (p *cleanPass) cleanAndSwap(group []*segment) (done bool, err error) {
	w, wfs, err := p.writeCleaned(group)
	if err != nil {
		return false, err
	}
	defer w.unpin(wfs) // pinned while it is written and swapped in
	if err := p.l.cleanerHook(stepCleaned); err != nil {
		w.release()
		return false, err // a simulated crash leaves the files
	}
	swapped, err := p.l.swapCleaned(p, group, w)
	if err != nil || !swapped {
		return false, err
	}
	p.stats.SegmentsRead += len(group)
	p.stats.SegmentsWritten++
	return true, nil
}

// writeCleaned writes the kept batches of group into <base>.log.cleaned
// with its indexes, all synced, and returns the new segment (its indexes
// set up to be read under the final names once swapped in). Its
// transaction index, <base>.txnindex.cleaned, holds the entries of the
// ABORT markers the group keeps for their data (cleaner_txn.go); it is
// written even when empty, so that recovery can tell a swap's new index
// from the replaced segment's (cleaner_recovery.go).
func (p *cleanPass) writeCleaned(group []*segment) (*segment, *fileSet, error) {
	dir, base := p.l.dir, group[0].base
	f, err := openFile(cleanedName(dir, base, logSuffix), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, nil, fmt.Errorf("clean segment %d: %w", base, err)
	}
	w := newSegment(dir, base, p.l.files, p.cfg, p.nowMs)
	wfs := w.adopt(f)
	err = w.offIdx.openWritable(cleanedName(dir, base, indexSuffix), offsetEntrySize, int64(p.cfg.SegmentIndexBytes), 0)
	if err == nil {
		err = w.timeIdx.openWritable(cleanedName(dir, base, timeIndexSuffix), timeEntrySize, int64(p.cfg.SegmentIndexBytes), 0)
	}
	if err == nil {
		p.filter.txns.kept = p.filter.txns.kept[:0]
		err = p.copyKept(group, w, wfs)
	}
	if err == nil {
		kept := p.filter.txns.kept
		err = writeTxnIndexFile(cleanedName(dir, base, txnIndexSuffix), kept, p.l.fsync)
		w.txnIdx.install(kept)
	}
	if err == nil {
		err = p.syncCleaned(group, w, wfs)
	}
	if err != nil {
		w.unpin(wfs)
		discardCleaned(w)
		return nil, nil, fmt.Errorf("clean segment %d: %w", base, err)
	}
	return w, wfs, nil
}

// copyKept filters every batch of group into w (its set wfs).
func (p *cleanPass) copyKept(group []*segment, w *segment, wfs *fileSet) error {
	bw := bufio.NewWriterSize(wfs.log, cleanerIOBufferBytes)
	var pos int64
	for _, s := range group {
		if err := p.copySegment(s, w, bw, &pos); err != nil {
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	w.size.Store(pos)
	p.stats.BytesWritten += pos
	return nil
}

// copySegment filters the batches of s into bw, w's file at *pos.
func (p *cleanPass) copySegment(s, w *segment, bw *bufio.Writer, pos *int64) error {
	fs, err := s.pin()
	if err != nil {
		return err
	}
	defer s.unpin(fs)
	p.scan.reset(s, fs, 0, s.size.Load())
	for {
		b, _, err := p.scan.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := p.checkDone(len(b)); err != nil {
			return err
		}
		p.stats.BytesRead += int64(len(b))
		out, err := p.filter.filter(b)
		if err != nil {
			return fmt.Errorf("segment %d at %d: %w", s.base, p.scan.pos-int64(len(b)), err)
		}
		if out == nil {
			continue
		}
		if _, err := bw.Write(out); err != nil {
			return err
		}
		h := batch.Header(out)
		w.indexBatch(model.Offset(h.LastOffset()), h.MaxTimestamp(), *pos, int64(len(out)), p.cfg.IndexIntervalBytes)
		*pos += int64(len(out))
	}
}

// syncCleaned finishes w as an inactive segment: final time index entry,
// indexes trimmed and synced, the log synced and given the modification
// time of the group's last segment (Kafka keeps it for time retention of
// segments without timestamps). The indexes are then unmapped and set up
// read-only under their final names.
func (p *cleanPass) syncCleaned(group []*segment, w *segment, wfs *fileSet) error {
	last := group[len(group)-1]
	w.next = p.r.segs[floorSegment(p.r.segs, last.base)+1].base
	if err := w.onBecomeInactive(wfs); err != nil {
		return err
	}
	if err := p.l.fsync(wfs.log); err != nil {
		return err
	}
	if err := w.syncIndexes(p.l.fsync); err != nil {
		return err
	}
	if fi, err := os.Stat(segmentName(last.dir, last.base, logSuffix)); err == nil {
		os.Chtimes(cleanedName(w.dir, w.base, logSuffix), fi.ModTime(), fi.ModTime())
	}
	offN, timeN := w.offIdx.entries(), w.timeIdx.entries()
	w.offIdx.close()
	w.timeIdx.close()
	w.offIdx.openReadOnly(segmentName(w.dir, w.base, indexSuffix), offsetEntrySize, offN*offsetEntrySize)
	w.timeIdx.openReadOnly(segmentName(w.dir, w.base, timeIndexSuffix), timeEntrySize, timeN*timeEntrySize)
	return nil
}

// discardCleaned closes and removes a cleaned segment that was not
// swapped in.
func discardCleaned(w *segment) {
	w.release()
	for _, suf := range []string{logSuffix, indexSuffix, timeIndexSuffix, txnIndexSuffix} {
		os.Remove(cleanedName(w.dir, w.base, suf))
	}
}
