package wire

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/kafka/prescan"
)

// ErrMalformed: the request header could not be parsed. Kafka closes the
// connection.
var ErrMalformed = errors.New("malformed request")

// RequestHeader is Kafka's request header (versions 0-2).
type RequestHeader struct {
	APIKey        int16
	APIVersion    int16
	CorrelationID int32
	ClientID      string
}

// ParseRequestHeader splits a frame into its header and body. flexible
// reports whether the API version uses header v2 (tagged fields after the
// client id); it is asked once key and version are known.
func ParseRequestHeader(frame []byte, flexible func(key, version int16) bool) (RequestHeader, []byte, error) {
	var h RequestHeader
	body, err := ParseRequestHeaderInto(&h, frame, flexible)
	return h, body, err
}

// ParseRequestHeaderInto is ParseRequestHeader into h, for a connection
// that parses one header after another: when the client id is the one h
// already holds (it almost always is), h keeps that string instead of
// allocating a new one.
func ParseRequestHeaderInto(h *RequestHeader, frame []byte, flexible func(key, version int16) bool) ([]byte, error) {
	if len(frame) < 10 {
		return nil, fmt.Errorf("%w: header of %d bytes", ErrMalformed, len(frame))
	}
	h.APIKey = int16(binary.BigEndian.Uint16(frame[0:]))
	h.APIVersion = int16(binary.BigEndian.Uint16(frame[2:]))
	h.CorrelationID = int32(binary.BigEndian.Uint32(frame[4:]))
	n := int16(binary.BigEndian.Uint16(frame[8:]))
	rest := frame[10:]
	switch {
	case n > 0 && int(n) > len(rest):
		return nil, fmt.Errorf("%w: client id of %d bytes", ErrMalformed, n)
	case n > 0:
		if h.ClientID != string(rest[:n]) { // compares without allocating
			h.ClientID = string(rest[:n])
		}
		rest = rest[n:]
	default:
		h.ClientID = ""
	}
	if flexible(h.APIKey, h.APIVersion) {
		var err error
		if rest, err = skipTags(rest); err != nil {
			return nil, err
		}
	}
	return rest, nil
}

// skipTags skips a tagged-field section: uvarint count, then per field a
// uvarint tag, a uvarint size and size bytes. More than
// prescan.MaxTaggedFields fields, or more than the bytes left can hold,
// is malformed (Kafka 4.4's limit; the fields are skipped, never kept).
func skipTags(b []byte) ([]byte, error) {
	count, n := binary.Uvarint(b)
	if n <= 0 {
		return nil, fmt.Errorf("%w: tagged field count", ErrMalformed)
	}
	if count > prescan.MaxTaggedFields || count > uint64(len(b)-n)/2 {
		return nil, fmt.Errorf("%w: %d tagged fields in the header", ErrMalformed, count)
	}
	b = b[n:]
	for i := uint64(0); i < count; i++ {
		if _, n = binary.Uvarint(b); n <= 0 {
			return nil, fmt.Errorf("%w: tag", ErrMalformed)
		}
		b = b[n:]
		size, n := binary.Uvarint(b)
		if n <= 0 || size > uint64(len(b)-n) {
			return nil, fmt.Errorf("%w: tagged field size", ErrMalformed)
		}
		b = b[n+int(size):]
	}
	return b, nil
}

// AppendResponse appends a complete response frame (size, header, body) for
// resp to dst. ApiVersions always answers with header v0 (KIP-511), so a
// client that does not know our versions yet can read it.
func AppendResponse(dst []byte, correlationID int32, resp kmsg.Response) []byte {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	dst = binary.BigEndian.AppendUint32(dst, uint32(correlationID))
	if resp.IsFlexible() && resp.Key() != 18 {
		dst = append(dst, 0) // empty tagged fields
	}
	dst = resp.AppendTo(dst)
	binary.BigEndian.PutUint32(dst[start:], uint32(len(dst)-start-4))
	return dst
}

// FlexibleHeader reports whether the response to (key, version) carries
// tagged fields in its header, the same rule AppendResponse applies.
func FlexibleHeader(key int16, flexible bool) bool { return flexible && key != 18 }
