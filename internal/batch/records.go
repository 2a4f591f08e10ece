package batch

import (
	"fmt"
	"sync"
)

// DefaultMaxUncompressed bounds how large a batch may decompress to in
// Records (the package-level function). Use a Reader to choose another
// bound.
const DefaultMaxUncompressed = 128 << 20

// keepBufMax is the largest decompression buffer a pooled Reader keeps.
const keepBufMax = 4 << 20

// Record is one record of a batch, with its absolute offset and timestamp.
// Key and Value are nil for a null key or value and non-nil (maybe empty)
// otherwise.
//
// A Record handed to a callback and the slices in it are only valid during
// that call: they alias the batch or the Reader's decompression buffer.
// Copy what must outlive the call. A Record is a plain value, not safe for
// concurrent use while a Reader fills it.
type Record struct {
	Offset    int64
	Timestamp int64
	Key       []byte
	Value     []byte
	Headers   []RecordHeader
}

// RecordHeader is one record header. Kafka does not allow a null key; the
// value may be nil (null).
type RecordHeader struct {
	Key   string
	Value []byte
}

// Reader iterates over the records of batches, decompressing into a buffer
// it keeps between calls. The zero value is ready to use and bounds
// decompression at DefaultMaxUncompressed.
//
// A Reader is not safe for concurrent use.
type Reader struct {
	// MaxUncompressed bounds the decompressed size of one batch; zero
	// means DefaultMaxUncompressed.
	MaxUncompressed int

	buf []byte
	rec Record
}

var readers = sync.Pool{New: func() any { return new(Reader) }}

// Records calls fn for each record of the single batch b, in order, with
// a pooled Reader (decompression bounded at DefaultMaxUncompressed). See
// Reader.Records.
func Records(b []byte, fn func(*Record) error) error {
	r := readers.Get().(*Reader)
	defer putReader(r)
	return r.Records(b, fn)
}

func putReader(r *Reader) {
	r.MaxUncompressed = 0
	if cap(r.buf) > keepBufMax {
		r.buf = nil
	}
	r.rec = Record{Headers: r.rec.Headers[:0]}
	readers.Put(r)
}

// Records calls fn for each record of the single batch b, in order,
// decompressing first when the batch is compressed. It checks the framing
// (length, magic) but not the CRC: call Validate for that.
//
// A record that does not parse (a bad varint, a length past its end, a
// null header key) fails with ErrCorrupt; a record count that does not
// match the header fails with ErrInvalid, after fn has seen the records
// that did parse. An error from fn stops the walk and is returned as is.
func (r *Reader) Records(b []byte, fn func(*Record) error) error {
	return r.walk(b, func(i int32, rec *Record) error { return fn(rec) }, true)
}

// walk checks the framing, decompresses, and parses every record, calling
// fn with its index. withHeaders false skips building header strings.
func (r *Reader) walk(b []byte, fn func(int32, *Record) error, withHeaders bool) error {
	h, err := frame(b)
	if err != nil {
		return err
	}
	count := h.RecordCount()
	if count < 0 {
		return fmt.Errorf("%w: record count %d", ErrInvalid, count)
	}
	body := b[HeaderSize:]
	if count == 0 && len(body) == 0 {
		// An empty batch (compaction keeps them for producer state)
		// has no payload to decompress, whatever its codec says.
		return nil
	}
	if h.Codec() != CodecNone {
		maxSize := r.MaxUncompressed
		if maxSize <= 0 {
			maxSize = DefaultMaxUncompressed
		}
		if body, err = Decompress(h.Codec(), body, r.buf[:0], maxSize); err != nil {
			return err
		}
		r.buf = body
	}
	p := recordParser{
		baseOffset:  h.BaseOffset(),
		baseTime:    h.FirstTimestamp(),
		appendTime:  h.LogAppendTime(),
		maxTime:     h.MaxTimestamp(),
		withHeaders: withHeaders,
	}
	var i int32
	for ; len(body) > 0; i++ {
		if i == count {
			return fmt.Errorf("%w: %d bytes left after the %d records the header counts", ErrInvalid, len(body), count)
		}
		n, err := p.parse(body, &r.rec)
		if err != nil {
			return fmt.Errorf("%w: record %d: %s", ErrCorrupt, i, err)
		}
		if err := fn(i, &r.rec); err != nil {
			return err
		}
		body = body[n:]
	}
	if i != count {
		return fmt.Errorf("%w: header counts %d records, batch holds %d", ErrInvalid, count, i)
	}
	return nil
}

// frame checks that b is exactly one v2 batch by its length and magic.
func frame(b []byte) (Header, error) {
	if len(b) > offMagic && int8(b[offMagic]) != 2 {
		return nil, fmt.Errorf("%w: magic %d", ErrMagic, int8(b[offMagic]))
	}
	if len(b) < HeaderSize {
		return nil, fmt.Errorf("%w: %d bytes is shorter than a batch header", ErrCorrupt, len(b))
	}
	h := Header(b)
	if h.BatchLength() < HeaderSize-LogOverhead || h.Size() != len(b) {
		return nil, fmt.Errorf("%w: batch length %d does not match %d bytes", ErrCorrupt, h.BatchLength(), len(b))
	}
	return h, nil
}
