package produce

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// recordReader reads delimiter-terminated records from an input stream.
// It is not safe for concurrent use.
type recordReader struct {
	br    *bufio.Reader
	delim []byte
	buf   []byte // reused: a record is valid until the next call
}

func newRecordReader(r io.Reader, delim []byte) *recordReader {
	return &recordReader{br: bufio.NewReaderSize(r, 64<<10), delim: delim}
}

// next returns the next record without its delimiter, valid until the
// next call. A last record without a delimiter counts; then io.EOF.
func (r *recordReader) next() ([]byte, error) {
	r.buf = r.buf[:0]
	last := r.delim[len(r.delim)-1]
	for {
		chunk, err := r.br.ReadSlice(last)
		r.buf = append(r.buf, chunk...)
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			if len(r.buf) == 0 {
				return nil, io.EOF
			}
			return r.buf, nil
		case err != nil:
			return nil, err
		}
		if bytes.HasSuffix(r.buf, r.delim) {
			return r.buf[:len(r.buf)-len(r.delim)], nil
		}
	}
}
