package clientcmd

import (
	"bytes"
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"
)

// The text form of record headers in --format strings (%h), shared by
// produce (parsing) and consume (printing) so that one format string
// round-trips: "k1=v1;k2=v2". A header key may not hold '=' or ';', a value
// may not hold ';'. No headers is the empty string.
const (
	headerSep   = ';'
	headerKVSep = '='
)

// AppendHeaders appends the text form of hs to dst.
func AppendHeaders(dst []byte, hs []kgo.RecordHeader) []byte {
	for i, h := range hs {
		if i > 0 {
			dst = append(dst, headerSep)
		}
		dst = append(dst, h.Key...)
		dst = append(dst, headerKVSep)
		dst = append(dst, h.Value...)
	}
	return dst
}

// ParseHeaders appends the headers in text (the form AppendHeaders writes)
// to dst. Values alias text.
func ParseHeaders(dst []kgo.RecordHeader, text []byte) ([]kgo.RecordHeader, error) {
	for len(text) > 0 {
		pair := text
		if i := bytes.IndexByte(text, headerSep); i >= 0 {
			pair, text = text[:i], text[i+1:]
		} else {
			text = nil
		}
		k, v, ok := bytes.Cut(pair, []byte{headerKVSep})
		if !ok || len(k) == 0 {
			return dst, fmt.Errorf("header %q: want key=value (headers are written k1=v1;k2=v2)", pair)
		}
		dst = append(dst, kgo.RecordHeader{Key: string(k), Value: v})
	}
	return dst, nil
}
