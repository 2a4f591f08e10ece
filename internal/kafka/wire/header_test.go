package wire

import (
	"encoding/binary"
	"errors"
	"testing"
)

// nullClientID asks header for a null client id (length -1).
const nullClientID = "<null>"

func header(key, version int16, corr int32, clientID string) []byte {
	b := binary.BigEndian.AppendUint16(nil, uint16(key))
	b = binary.BigEndian.AppendUint16(b, uint16(version))
	b = binary.BigEndian.AppendUint32(b, uint32(corr))
	if clientID == nullClientID {
		return binary.BigEndian.AppendUint16(b, 0xffff)
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(clientID)))
	return append(b, clientID...)
}

// headerTags is an ApiVersions v3 header with n empty tagged fields.
func headerTags(n int) []byte {
	b := binary.AppendUvarint(header(18, 3, 1, "c"), uint64(n))
	for i := 0; i < n; i++ {
		b = binary.AppendUvarint(b, uint64(i))
		b = append(b, 0)
	}
	return b
}

func TestParseRequestHeaderInto(t *testing.T) {
	never := func(int16, int16) bool { return false }
	always := func(int16, int16) bool { return true }
	tests := []struct {
		name     string
		frame    []byte
		flexible func(int16, int16) bool
		prev     string // client id left in the header by the previous request
		want     RequestHeader
		body     string
		err      error
	}{
		{"plain", append(header(0, 9, 7, "app"), "body"...), never, "", RequestHeader{0, 9, 7, "app"}, "body", nil},
		{"same client id kept", header(1, 11, 8, "app"), never, "app", RequestHeader{1, 11, 8, "app"}, "", nil},
		{"new client id", header(1, 11, 8, "other"), never, "app", RequestHeader{1, 11, 8, "other"}, "", nil},
		{"null client id", header(3, 1, 9, nullClientID), never, "app", RequestHeader{3, 1, 9, ""}, "", nil},
		{"flexible: tags skipped", append(header(3, 12, 1, "c"), 1, 5, 2, 'x', 'y', 'b'), always, "", RequestHeader{3, 12, 1, "c"}, "b", nil},
		{"short", []byte{0, 1, 2}, never, "", RequestHeader{}, "", ErrMalformed},
		{"client id past the end", header(0, 9, 7, "app")[:12], never, "", RequestHeader{}, "", ErrMalformed},
		{"bad tags", append(header(3, 12, 1, "c"), 1, 5, 9), always, "", RequestHeader{}, "", ErrMalformed},
		{"10,000 tags skipped", append(headerTags(10_000), 'b'), always, "", RequestHeader{18, 3, 1, "c"}, "b", nil},
		{"10,001 tags", append(headerTags(10_001), 'b'), always, "", RequestHeader{}, "", ErrMalformed},
		{"more tags than bytes", append(header(3, 12, 1, "c"), 3, 1, 0), always, "", RequestHeader{}, "", ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := RequestHeader{ClientID: tt.prev}
			body, err := ParseRequestHeaderInto(&h, tt.frame, tt.flexible)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if err != nil {
				return
			}
			if h != tt.want || string(body) != tt.body {
				t.Errorf("got %+v %q, want %+v %q", h, body, tt.want, tt.body)
			}
		})
	}
	t.Run("same client id allocates nothing", func(t *testing.T) {
		frame := header(0, 9, 7, "producer-1")
		h := RequestHeader{ClientID: "producer-1"}
		if n := testing.AllocsPerRun(100, func() { ParseRequestHeaderInto(&h, frame, never) }); n != 0 {
			t.Errorf("%v allocations per header", n)
		}
	})
}

func TestFrameSize(t *testing.T) {
	tests := []struct {
		prefix []byte
		want   int
		err    error
	}{
		{[]byte{0, 0, 1, 0}, 256, nil},
		{[]byte{0, 0, 4, 1}, 0, ErrFrameTooLarge},
		{[]byte{0xff, 0xff, 0xff, 0xff}, 0, ErrFrameTooLarge},
	}
	for _, tt := range tests {
		n, err := FrameSize(tt.prefix, 1024)
		if n != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("FrameSize(%v) = %d, %v; want %d, %v", tt.prefix, n, err, tt.want, tt.err)
		}
	}
}
