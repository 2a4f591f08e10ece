package consume

import (
	"io"
	"strconv"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-io/sluice/internal/cli/clientcmd"
)

// timeLayout is RFC 3339 with milliseconds, the precision of a Kafka
// timestamp.
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

// piece is literal text (verb 0) or one placeholder of an output format.
type piece struct {
	verb byte
	lit  []byte
}

// Formatter prints records by an output format: literal text with
//
//	%t topic  %p partition  %o offset  %d timestamp (ms)  %T timestamp (RFC 3339, UTC)
//	%k key  %v value  %h headers as k1=v1;k2=v2  %% a percent sign
//
// and the escapes \n \r \t \0 \\. A null key or value prints as nothing.
// It is immutable and safe for concurrent use.
type Formatter struct{ pieces []piece }

// ParseFormat compiles a --format value (flag names it in errors).
func ParseFormat(flag, s string) (*Formatter, error) {
	u, err := clientcmd.Unescape(flag, s)
	if err != nil {
		return nil, err
	}
	f := &Formatter{}
	var lit []byte
	for i := 0; i < len(u); i++ {
		if u[i] != '%' {
			lit = append(lit, u[i])
			continue
		}
		if i+1 == len(u) {
			return nil, clientcmd.Usagef("%s %q: trailing %% (write %%%% for a percent sign)", flag, s)
		}
		i++
		switch verb := u[i]; verb {
		case '%':
			lit = append(lit, '%')
		case 't', 'p', 'o', 'd', 'T', 'k', 'v', 'h':
			if len(lit) > 0 {
				f.pieces = append(f.pieces, piece{lit: lit})
				lit = nil
			}
			f.pieces = append(f.pieces, piece{verb: verb})
		default:
			return nil, clientcmd.Usagef("%s %q: unknown placeholder %%%c (allowed: %%t %%p %%o %%d %%T %%k %%v %%h %%%%)", flag, s, verb)
		}
	}
	if len(lit) > 0 {
		f.pieces = append(f.pieces, piece{lit: lit})
	}
	return f, nil
}

// Append appends r, formatted, to dst. It does not allocate beyond
// growing dst.
func (f *Formatter) Append(dst []byte, r *kgo.Record) []byte {
	for _, p := range f.pieces {
		switch p.verb {
		case 0:
			dst = append(dst, p.lit...)
		case 't':
			dst = append(dst, r.Topic...)
		case 'p':
			dst = strconv.AppendInt(dst, int64(r.Partition), 10)
		case 'o':
			dst = strconv.AppendInt(dst, r.Offset, 10)
		case 'd':
			dst = strconv.AppendInt(dst, r.Timestamp.UnixMilli(), 10)
		case 'T':
			dst = r.Timestamp.UTC().AppendFormat(dst, timeLayout)
		case 'k':
			dst = append(dst, r.Key...)
		case 'v':
			dst = append(dst, r.Value...)
		case 'h':
			dst = clientcmd.AppendHeaders(dst, r.Headers)
		}
	}
	return dst
}

// textWriter writes records by a Formatter. It is not safe for concurrent
// use.
type textWriter struct {
	f   *Formatter
	w   io.Writer
	buf []byte // reused between records
}

func (t *textWriter) write(r *kgo.Record) error {
	t.buf = t.f.Append(t.buf[:0], r)
	_, err := t.w.Write(t.buf)
	return err
}
