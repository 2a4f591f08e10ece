package storage

import (
	"errors"
	"fmt"
	"io"

	"github.com/sluice-io/sluice/internal/batch"
	"github.com/sluice-io/sluice/internal/model"
)

// ScanBatchHeaders calls fn with the fixed header (batch.HeaderSize bytes)
// of every batch whose last offset is >= from, in offset order, up to the
// log end offset as it was when the scan began. Only headers are read (a
// pread per walk buffer, no record decoding): this is how producer state
// is rebuilt after a snapshot (Kafka's loadProducersFromRecords, which also
// needs no more than the batch header).
//
// The Header is only valid during the call; fn must not call the Log's
// writers. Scanning takes no lock: segments are pinned one at a time, and
// a segment deleted by retention meanwhile is skipped (the scan goes on
// from the log start offset). A segment whose files the scan had to open
// is closed again after it (a one-off scan of every partition at start-up
// must not keep them all open). An error from fn ends the scan and is
// returned.
func (l *Log) ScanBatchHeaders(from model.Offset, fn func(batch.Header) error) error {
	end := model.Offset(l.leo.Load())
	next := from
	for next < end {
		segs := l.segments()
		next = max(next, model.Offset(l.lso.Load()))
		i := floorSegment(segs, next)
		pinned := true
		for ; i < len(segs) && next < end; i++ {
			s := segs[i]
			fs, opened, err := s.pinOnce()
			if errors.Is(err, errSegmentGone) {
				pinned = false
				break
			}
			if err != nil {
				return fmt.Errorf("scan batch headers: %w", err)
			}
			n, err := s.scanHeaders(fs, next, end, fn)
			s.unpinOnce(fs, opened)
			if err != nil {
				return err
			}
			next = max(next, n)
			if i+1 < len(segs) {
				next = max(next, segs[i+1].base)
			}
		}
		if pinned {
			return nil
		}
		if l.shut.Load() {
			return ErrClosed
		}
		// A segment was deleted under us: reload the list and go on.
	}
	return nil
}

// scanHeaders walks s from the batch holding from and calls fn for each
// batch below end. It returns the offset after the last batch visited.
func (s *segment) scanHeaders(fs *fileSet, from, end model.Offset, fn func(batch.Header) error) (model.Offset, error) {
	r := newHeaderReader(fs.log, s.base, s.size.Load())
	defer r.done()
	pos := r.seek(&s.offIdx, from)
	next := from
	for {
		b, err := r.at(pos)
		if err == io.EOF {
			return next, nil
		}
		if err != nil {
			return next, err
		}
		if b.base >= end {
			return next, nil
		}
		if b.last >= from {
			// at left the whole header in the walk buffer.
			off := pos - r.bufPos
			if err := fn(batch.Header(r.buf[off : off+batch.HeaderSize])); err != nil {
				return next, err
			}
			next = b.last + 1
		}
		pos += b.size
	}
}
