// Package wire is the Kafka protocol edge below the handlers: size-prefixed
// framing with a maximum request size, request and response headers
// (v0-v2, flexible versions with tagged fields, KIP-482), and the encoding
// of a response into a frame. Message bodies are franz-go kmsg types.
//
// Functions here are pure or work on the caller's reader/writer; nothing is
// shared, so everything is safe for concurrent use on distinct values.
package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// ErrFrameTooLarge: a client announced a request larger than
// socket.request.max.bytes. Kafka closes the connection.
var ErrFrameTooLarge = errors.New("request frame too large")

// ReadFrame reads one size-prefixed frame from r into buf (grown as needed)
// and returns the frame bytes without the size prefix.
func ReadFrame(r io.Reader, max int32, buf []byte) ([]byte, error) {
	n, err := ReadFrameSize(r, max)
	if err != nil {
		return nil, err
	}
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, err
	}
	return buf, nil
}

// ReadFrameSize reads a frame's 4-byte size prefix and checks it against
// max; the caller reads the frame's bytes itself (into a buffer of its
// choosing).
func ReadFrameSize(r io.Reader, max int32) (int, error) {
	var size [4]byte
	if _, err := io.ReadFull(r, size[:]); err != nil {
		return 0, err
	}
	return FrameSize(size[:], max)
}

// FrameSize decodes a 4-byte size prefix and checks it against max
// (socket.request.max.bytes).
func FrameSize(prefix []byte, max int32) (int, error) {
	n := int32(binary.BigEndian.Uint32(prefix))
	if n < 0 || n > max {
		return 0, fmt.Errorf("%w: %d bytes, socket.request.max.bytes is %d", ErrFrameTooLarge, n, max)
	}
	return int(n), nil
}
