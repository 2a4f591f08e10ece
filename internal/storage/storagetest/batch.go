// Package storagetest builds valid Kafka v2 record batches for tests of the
// log and of the layers above it. Batches are uncompressed, with simple
// records (no key, a value of the asked size, no headers) and a correct
// CRC32C, so batch.Validate accepts them.
//
// Functions here are pure and safe for concurrent use.
package storagetest

import (
	"encoding/binary"

	"github.com/sluice-io/sluice/internal/batch"
)

// Spec describes a batch to build. Zero values give one record of 16 bytes
// with timestamp 0 and no producer id.
type Spec struct {
	Records        int   // number of records (>= 1)
	ValueSize      int   // bytes of each record's value (0: 16, negative: empty)
	FirstTimestamp int64 // timestamp of record 0; record i gets FirstTimestamp+i*TimestampStep
	TimestampStep  int64
	BaseOffset     int64 // written into the header (the log overwrites it on Append)
	LeaderEpoch    int32
	ProducerID     int64 // 0 means none: producer id, epoch and sequence -1
	NoProducer     bool  // force producer id, epoch and sequence to -1
	Fill           byte  // value bytes
}

// Build returns the batch described by sp.
func Build(sp Spec) []byte {
	n := max(sp.Records, 1)
	switch {
	case sp.ValueSize == 0:
		sp.ValueSize = 16
	case sp.ValueSize < 0:
		sp.ValueSize = 0 // an empty (not null) value
	}
	b := make([]byte, batch.HeaderSize, batch.HeaderSize+n*(sp.ValueSize+16))
	for i := range n {
		b = appendRecord(b, int64(i)*sp.TimestampStep, i, sp.ValueSize, sp.Fill)
	}
	be := binary.BigEndian
	be.PutUint64(b[0:], uint64(sp.BaseOffset))
	be.PutUint32(b[8:], uint32(len(b)-batch.LogOverhead))
	be.PutUint32(b[12:], uint32(sp.LeaderEpoch))
	b[16] = 2
	be.PutUint16(b[21:], 0) // attributes: no compression, CreateTime
	be.PutUint32(b[23:], uint32(n-1))
	be.PutUint64(b[27:], uint64(sp.FirstTimestamp))
	be.PutUint64(b[35:], uint64(sp.FirstTimestamp+int64(n-1)*sp.TimestampStep))
	pid, epoch, seq := sp.ProducerID, int16(0), int32(0)
	if sp.NoProducer || pid == 0 {
		pid, epoch, seq = -1, -1, -1
	}
	be.PutUint64(b[43:], uint64(pid))
	be.PutUint16(b[51:], uint16(epoch))
	be.PutUint32(b[53:], uint32(seq))
	be.PutUint32(b[57:], uint32(n))
	be.PutUint32(b[17:], batch.ComputeCRC(b))
	return b
}

// Batch returns a batch of n records of valueSize bytes each, all with
// timestamp ts.
func Batch(n, valueSize int, ts int64) []byte {
	return Build(Spec{Records: n, ValueSize: valueSize, FirstTimestamp: ts})
}

// BatchOfSize returns a one-record batch of exactly size bytes (size >= 70;
// a few sizes next to varint length steps cannot be hit and panic),
// with timestamp ts.
func BatchOfSize(size int, ts int64) []byte {
	// One record with a value of v bytes takes 61 header bytes plus
	// 1 (attributes) + 1 (ts delta 0) + 1 (offset delta 0) + 1 (key -1)
	// + varint(v) + v + 1 (headers) + varint(body length).
	for v := max(size-80, 0); v <= size; v++ {
		sp := Spec{Records: 1, ValueSize: v, FirstTimestamp: ts}
		if v == 0 {
			sp.ValueSize = -1
		}
		if b := Build(sp); len(b) == size {
			return b
		}
	}
	panic("storagetest: no batch of that size")
}

// appendRecord appends one v2 record: length, attributes, timestamp delta,
// offset delta, key (null), value, header count (0), all varints zig-zag.
func appendRecord(b []byte, tsDelta int64, offDelta, valueSize int, fill byte) []byte {
	var body []byte
	body = append(body, 0) // attributes
	body = binary.AppendVarint(body, tsDelta)
	body = binary.AppendVarint(body, int64(offDelta))
	body = binary.AppendVarint(body, -1) // null key
	body = binary.AppendVarint(body, int64(valueSize))
	for range valueSize {
		body = append(body, fill)
	}
	body = binary.AppendVarint(body, 0) // no headers
	b = binary.AppendVarint(b, int64(len(body)))
	return append(b, body...)
}
