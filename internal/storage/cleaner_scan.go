package storage

import (
	"io"
	"os"

	"github.com/sluice-io/sluice/internal/batch"
	"github.com/sluice-io/sluice/internal/model"
)

// cleanerIOBufferBytes is the read buffer of a cleaning pass (Kafka's
// log.cleaner.io.buffer.size default, 512 KiB); it grows for a larger
// batch.
const cleanerIOBufferBytes = 512 << 10

// batchScanner reads the whole batches of one segment in order, through a
// buffer filled with positioned reads (never mmap: a segment truncated
// under the cleaner must fail a read, not fault). Each batch's framing and
// CRC32C are checked. Not safe for concurrent use.
type batchScanner struct {
	f      *os.File     // the segment's log, of a pinned file set
	base   model.Offset // the segment's base offset, for errors
	end    int64        // bytes of the segment to scan
	pos    int64        // file position of the next batch
	buf    []byte       // read buffer, reused across segments
	bufPos int64        // file position of buf[0]
	bufLen int          // valid bytes in buf
}

// reset starts a scan of s, its set fs pinned, from pos to end.
func (r *batchScanner) reset(s *segment, fs *fileSet, pos, end int64) {
	r.f, r.base, r.pos, r.end = fs.log, s.base, pos, end
	r.bufPos, r.bufLen = 0, 0
	if r.buf == nil {
		r.buf = make([]byte, cleanerIOBufferBytes)
	}
}

// next returns the next batch and its position. The bytes are valid until
// the next call. io.EOF ends the scan; a *CorruptionError reports a batch
// that does not check.
func (r *batchScanner) next() ([]byte, int64, error) {
	if r.pos >= r.end {
		return nil, r.pos, io.EOF
	}
	hdr, err := r.window(batch.HeaderSize)
	if err != nil {
		return nil, r.pos, err
	}
	h := batch.Header(hdr)
	size := int64(h.Size())
	if h.Magic() != 2 || h.BatchLength() < batch.HeaderSize-batch.LogOverhead || r.pos+size > r.end {
		return nil, r.pos, r.corrupt("bad batch header")
	}
	b, err := r.window(int(size))
	if err != nil {
		return nil, r.pos, err
	}
	if batch.ComputeCRC(b) != batch.Header(b).CRC() {
		return nil, r.pos, r.corrupt("crc mismatch")
	}
	pos := r.pos
	r.pos += size
	return b, pos, nil
}

// window returns n bytes at r.pos, reading more when the buffer does not
// hold them.
func (r *batchScanner) window(n int) ([]byte, error) {
	if int64(n) > r.end-r.pos {
		return nil, r.corrupt("truncated batch")
	}
	off := r.pos - r.bufPos
	if r.pos >= r.bufPos && off+int64(n) <= int64(r.bufLen) {
		return r.buf[off : off+int64(n)], nil
	}
	if n > len(r.buf) {
		r.buf = make([]byte, n)
	}
	want := int(min(int64(len(r.buf)), r.end-r.pos))
	got, err := r.f.ReadAt(r.buf[:want], r.pos)
	if got < n {
		if err == nil || err == io.EOF {
			return nil, r.corrupt("short read")
		}
		return nil, err
	}
	r.bufPos, r.bufLen = r.pos, got
	return r.buf[:n], nil
}

func (r *batchScanner) corrupt(reason string) error {
	return &CorruptionError{Segment: r.base, Position: r.pos, Reason: reason}
}
