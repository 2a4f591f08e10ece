package storage

import (
	"errors"
	"fmt"

	"github.com/sluice-io/sluice/internal/model"
)

// Read returns a byte range of ONE segment file that starts at the batch
// holding from and holds whole batches, at most maxBytes of them; when
// minOneBatch is set and the first batch alone is larger, exactly that
// batch. It returns an empty Chunk at the log end (and when the first batch
// does not fit without minOneBatch), and ErrOffsetOutOfRange when from is
// outside [LogStartOffset, LogEndOffset]. Read takes no lock and does not
// allocate while the segment's files are open; when the janitor closed
// them, it opens them again (files.go), and an error wrapping
// ErrResourceExhausted means the process is out of descriptors or maps.
func (l *Log) Read(from model.Offset, maxBytes int32, minOneBatch bool) (Chunk, error) {
	return l.read(from, -1, maxBytes, minOneBatch)
}

// ReadUpTo is Read limited to the batches that end before maxOffset (the
// high watermark or last stable offset, which are batch boundaries); a
// batch holding maxOffset is left out. from == maxOffset returns an empty
// Chunk.
func (l *Log) ReadUpTo(from, maxOffset model.Offset, maxBytes int32, minOneBatch bool) (Chunk, error) {
	return l.read(from, maxOffset, maxBytes, minOneBatch)
}

// read implements Read and ReadUpTo; limit < 0 means the log end.
func (l *Log) read(from, limit model.Offset, maxBytes int32, minOneBatch bool) (Chunk, error) {
	for {
		leo := model.Offset(l.leo.Load())
		if lso := model.Offset(l.lso.Load()); from < lso || from > leo {
			return Chunk{}, fmt.Errorf("read at %d: %w [%d, %d]", from, ErrOffsetOutOfRange, lso, leo)
		}
		// A limit at the loaded log end still bounds the read: batches
		// appended after the load (beyond a high watermark or LSO equal
		// to it) must not be returned.
		bounded := limit >= 0
		if bounded && limit > leo {
			limit = leo
		}
		if from == leo || (bounded && from >= limit) || (maxBytes <= 0 && !minOneBatch) {
			// Nothing fits a full fetch response: no file to open for it.
			return Chunk{}, nil
		}
		if c, done, err := l.readSegments(from, limit, bounded, maxBytes, minOneBatch); done {
			return c, err
		}
		if l.shut.Load() {
			return Chunk{}, ErrClosed
		}
		// A segment was deleted under us: reload the list and the offsets.
	}
}

// readSegments tries the segments from the one holding from onward. done
// is false when a segment could not be pinned (deleted meanwhile).
func (l *Log) readSegments(from, limit model.Offset, bounded bool, maxBytes int32, minOneBatch bool) (Chunk, bool, error) {
	segs := l.segments()
	for i := floorSegment(segs, from); i < len(segs); i++ {
		s := segs[i]
		fs, err := s.pin()
		if err != nil {
			if errors.Is(err, errSegmentGone) {
				return Chunk{}, false, nil
			}
			return Chunk{}, true, fmt.Errorf("read at %d: %w", from, err)
		}
		segLimit := limit
		if !bounded || (i+1 < len(segs) && segs[i+1].base <= limit) {
			segLimit = -1 // the limit lies beyond this segment
		}
		c, found, err := s.read(fs, from, segLimit, maxBytes, minOneBatch)
		if c.Size > 0 {
			s.noteChunk() // before unpin: the janitor keeps the set open for it
		}
		s.unpin(fs)
		if err != nil || found {
			return c, true, err
		}
		if bounded && i+1 < len(segs) && segs[i+1].base >= limit {
			break
		}
	}
	return Chunk{}, true, nil // nothing at or after from yet
}

// read serves Read from one segment through its pinned set fs; found is
// false when no batch at or after from lies in the segment. limit < 0 means
// no offset limit here.
func (s *segment) read(fs *fileSet, from, limit model.Offset, maxBytes int32, minOneBatch bool) (Chunk, bool, error) {
	end := s.size.Load()
	first, found, err := s.locate(fs, from, end)
	if err != nil || !found {
		return Chunk{}, false, err
	}
	if limit >= 0 {
		b, ok, err := s.locate(fs, limit, end)
		if err != nil {
			return Chunk{}, true, err
		}
		if ok {
			end = b.pos
		}
	}
	avail := end - first.pos
	if avail <= 0 {
		return Chunk{}, true, nil
	}
	size := avail
	if avail > int64(maxBytes) {
		b, err := s.boundaryBefore(fs, first.pos, first.pos+int64(max(maxBytes, 0)), end)
		if err != nil {
			return Chunk{}, true, err
		}
		size = b - first.pos
		if size == 0 && minOneBatch {
			size = first.size
		}
	}
	if size == 0 {
		return Chunk{}, true, nil
	}
	return Chunk{File: fs.log, Pos: first.pos, Size: size, FirstOffset: first.base}, true, nil
}
