package bench

import (
	"encoding/binary"
	"math/rand/v2"
)

// HeaderSize is the size of the header every benchmark record value starts
// with; --record-size may not be smaller.
const HeaderSize = 32

// header is what a record value carries so the consumer can check it and
// time it. Layout, big-endian:
//
//	0  run       uint64  random per benchmark run: records of other runs are foreign
//	8  producer  uint32  index of the producing client
//	12 partition int32   partition the record was sent to
//	16 seq       uint64  sequence number within (producer, partition), from 0
//	24 sentNs    int64   send time, nanoseconds since the run's start (monotonic)
//
// The rest of the value is filler.
type header struct {
	run       uint64
	producer  uint32
	partition int32
	seq       uint64
	sentNs    int64
}

func (h header) put(b []byte) {
	binary.BigEndian.PutUint64(b[0:], h.run)
	binary.BigEndian.PutUint32(b[8:], h.producer)
	binary.BigEndian.PutUint32(b[12:], uint32(h.partition))
	binary.BigEndian.PutUint64(b[16:], h.seq)
	binary.BigEndian.PutUint64(b[24:], uint64(h.sentNs))
}

// readHeader decodes the header of a record value; ok is false when the
// value is too short to hold one.
func readHeader(b []byte) (h header, ok bool) {
	if len(b) < HeaderSize {
		return header{}, false
	}
	return header{
		run:       binary.BigEndian.Uint64(b[0:]),
		producer:  binary.BigEndian.Uint32(b[8:]),
		partition: int32(binary.BigEndian.Uint32(b[12:])),
		seq:       binary.BigEndian.Uint64(b[16:]),
		sentNs:    int64(binary.BigEndian.Uint64(b[24:])),
	}, true
}

// sentAt reads only the send time of a value (the produce promise needs
// nothing else); ok is false for a value without a header.
func sentAt(b []byte) (ns int64, ok bool) {
	if len(b) < HeaderSize {
		return 0, false
	}
	return int64(binary.BigEndian.Uint64(b[24:])), true
}

// filler returns size bytes of random upper-case letters, the payload
// Kafka's kafka-producer-perf-test sends: every record of a run repeats
// it, so it compresses about as well as that tool's records do.
func filler(size int, rng *rand.Rand) []byte {
	b := make([]byte, size)
	for i := range b {
		b[i] = 'A' + byte(rng.IntN(26))
	}
	return b
}
