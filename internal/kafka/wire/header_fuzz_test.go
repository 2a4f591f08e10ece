package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/sluice-io/sluice/internal/fuzzcorpus"
)

// FuzzParseRequestHeader: any frame parses into a header and a body that
// is the frame's tail, or fails with ErrMalformed; a parsed header
// re-encodes (without its skipped tags) to a frame that parses back to the
// same header and body.
func FuzzParseRequestHeader(f *testing.F) {
	fuzzcorpus.Add(f, append(header(0, 9, 7, "app"), "body"...), false)
	fuzzcorpus.Add(f, append(header(3, 12, 1, "c"), 1, 5, 2, 'x', 'y', 'b'), true)
	fuzzcorpus.Add(f, header(3, 1, 9, nullClientID), false)
	fuzzcorpus.Add(f, headerTags(3), true)
	fuzzcorpus.Add(f, append(header(18, 3, 1, "c"), 0x80, 0x80, 0x80, 0x80, 0x10), true)
	f.Fuzz(func(t *testing.T, frame []byte, flexible bool) {
		flex := func(int16, int16) bool { return flexible }
		var h RequestHeader
		body, err := ParseRequestHeaderInto(&h, frame, flex)
		if err != nil {
			if !bytesErrMalformed(err) {
				t.Fatalf("error is not ErrMalformed: %v", err)
			}
			return
		}
		if len(body) > len(frame)-10 || !bytes.Equal(body, frame[len(frame)-len(body):]) {
			t.Fatalf("body of %d bytes is not the tail of the %d-byte frame", len(body), len(frame))
		}
		again := binary.BigEndian.AppendUint16(nil, uint16(h.APIKey))
		again = binary.BigEndian.AppendUint16(again, uint16(h.APIVersion))
		again = binary.BigEndian.AppendUint32(again, uint32(h.CorrelationID))
		again = binary.BigEndian.AppendUint16(again, uint16(len(h.ClientID)))
		again = append(again, h.ClientID...)
		if flexible {
			again = append(again, 0)
		}
		again = append(again, body...)
		var h2 RequestHeader
		body2, err := ParseRequestHeaderInto(&h2, again, flex)
		if err != nil || h2 != h || !bytes.Equal(body2, body) {
			t.Fatalf("round trip of %+v: %+v, %v", h, h2, err)
		}
	})
}

func bytesErrMalformed(err error) bool { return errors.Is(err, ErrMalformed) }
