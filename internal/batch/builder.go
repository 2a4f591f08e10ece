package batch

import (
	"encoding/binary"
	"fmt"
	"math"
)

// BatchInfo is the header of a batch to build, in the batch's own terms.
// NewBatchInfo gives the values a plain (non-idempotent) producer sends.
// A plain value, safe to copy.
type BatchInfo struct {
	BaseOffset           int64
	PartitionLeaderEpoch int32
	Codec                int
	Transactional        bool
	Control              bool
	ProducerID           int64
	ProducerEpoch        int16
	BaseSequence         int32
	// BaseTimestamp is the batch's first timestamp; zero means the first
	// record's timestamp, as producers write it.
	BaseTimestamp int64
	// LogAppendTime, when non-zero, marks the batch LogAppendTime with
	// this max timestamp (what a broker does to a topic with
	// message.timestamp.type=LogAppendTime).
	LogAppendTime int64
}

// NewBatchInfo returns the header values of a batch from a producer
// without idempotence: no producer id, epoch or sequence, no leader epoch.
func NewBatchInfo(codec int) BatchInfo {
	return BatchInfo{
		PartitionLeaderEpoch: -1,
		Codec:                codec,
		ProducerID:           -1,
		ProducerEpoch:        -1,
		BaseSequence:         -1,
	}
}

// Builder accumulates records and encodes them as one v2 batch. Tests,
// control markers and the CLI use it; the produce path never builds
// batches. A Builder can be reused through Reset.
//
// A Builder is not safe for concurrent use.
type Builder struct {
	info     BatchInfo
	payload  []byte // uncompressed records
	count    int32
	next     int64 // offset delta of the next Add
	last     int32 // offset delta of the last record
	firstTS  int64
	maxTS    int64
	hasFirst bool
}

// NewBuilder returns an empty Builder for a batch with header info.
func NewBuilder(info BatchInfo) *Builder {
	b := new(Builder)
	b.Reset(info)
	return b
}

// Reset empties the builder for a new batch, keeping its buffer.
func (b *Builder) Reset(info BatchInfo) {
	*b = Builder{info: info, payload: b.payload[:0], last: -1}
}

// Len is the number of records added so far.
func (b *Builder) Len() int { return int(b.count) }

// Add appends a record at the next offset (one past the last record; the
// base offset for the first). rec.Offset is ignored.
func (b *Builder) Add(rec *Record) error {
	return b.add(b.next, rec)
}

// AddAt appends a record at offset rec.Offset, which must be past the
// last record's and at or past the base offset: gaps are allowed, as in a
// compacted batch.
func (b *Builder) AddAt(rec *Record) error {
	delta := rec.Offset - b.info.BaseOffset
	if delta < b.next {
		return fmt.Errorf("%w: offset %d is not after offset %d", ErrInvalid, rec.Offset, b.info.BaseOffset+b.next-1)
	}
	return b.add(delta, rec)
}

func (b *Builder) add(delta int64, rec *Record) error {
	if delta > math.MaxInt32 || b.count == math.MaxInt32 {
		return fmt.Errorf("%w: offset delta %d past int32", ErrInvalid, delta)
	}
	if !b.hasFirst {
		b.hasFirst = true
		b.firstTS = b.info.BaseTimestamp
		if b.firstTS == 0 {
			b.firstTS = rec.Timestamp
		}
		b.maxTS = rec.Timestamp
	}
	b.payload = appendRecord(b.payload, int32(delta), rec.Timestamp-b.firstTS, rec)
	b.maxTS = max(b.maxTS, rec.Timestamp)
	b.count++
	b.last = int32(delta)
	b.next = delta + 1
	return nil
}

// Build appends the finished batch to dst and returns the extended slice.
// The Builder keeps its records; Reset it to start another batch.
func (b *Builder) Build(dst []byte) ([]byte, error) {
	start := len(dst)
	dst = append(dst, make([]byte, HeaderSize)...)
	var err error
	if b.count > 0 { // an empty batch has no payload, whatever its codec
		if dst, err = Compress(b.info.Codec, b.payload, dst); err != nil {
			return dst[:start], err
		}
	}
	size := len(dst) - start
	if size-LogOverhead > math.MaxInt32 {
		return dst[:start], fmt.Errorf("%w: batch of %d bytes", ErrInvalid, size)
	}
	h := dst[start:]
	firstTS, maxTS := b.firstTS, b.maxTS
	if !b.hasFirst {
		firstTS, maxTS = b.info.BaseTimestamp, b.info.BaseTimestamp
	}
	attrs := uint16(b.info.Codec & CompressionMask)
	if b.info.LogAppendTime != 0 {
		attrs |= TimestampTypeBit
		maxTS = b.info.LogAppendTime
	}
	if b.info.Transactional {
		attrs |= TransactionalBit
	}
	if b.info.Control {
		attrs |= ControlBit
	}
	be := binary.BigEndian
	be.PutUint64(h[offBaseOffset:], uint64(b.info.BaseOffset))
	be.PutUint32(h[offBatchLength:], uint32(size-LogOverhead))
	be.PutUint32(h[offLeaderEpoch:], uint32(b.info.PartitionLeaderEpoch))
	h[offMagic] = 2
	be.PutUint16(h[offAttributes:], attrs)
	be.PutUint32(h[offLastOffsetDelta:], uint32(b.last))
	be.PutUint64(h[offFirstTimestamp:], uint64(firstTS))
	be.PutUint64(h[offMaxTimestamp:], uint64(maxTS))
	be.PutUint64(h[offProducerID:], uint64(b.info.ProducerID))
	be.PutUint16(h[offProducerEpoch:], uint16(b.info.ProducerEpoch))
	be.PutUint32(h[offBaseSequence:], uint32(b.info.BaseSequence))
	be.PutUint32(h[offRecordCount:], uint32(b.count))
	be.PutUint32(h[offCRC:], ComputeCRC(h))
	return dst, nil
}

// appendRecord encodes one record (see record_parse.go for the layout).
func appendRecord(dst []byte, offDelta int32, tsDelta int64, rec *Record) []byte {
	n := 1 + sizeVarlong(tsDelta) + sizeVarint(offDelta) +
		sizeBytes(rec.Key) + sizeBytes(rec.Value) + sizeVarint(int32(len(rec.Headers)))
	for _, hd := range rec.Headers {
		n += sizeVarint(int32(len(hd.Key))) + len(hd.Key) + sizeBytes(hd.Value)
	}
	dst = appendVarint(dst, int32(n))
	dst = append(dst, 0) // attributes
	dst = appendVarlong(dst, tsDelta)
	dst = appendVarint(dst, offDelta)
	dst = appendBytes(dst, rec.Key)
	dst = appendBytes(dst, rec.Value)
	dst = appendVarint(dst, int32(len(rec.Headers)))
	for _, hd := range rec.Headers {
		dst = appendVarint(dst, int32(len(hd.Key)))
		dst = append(dst, hd.Key...)
		dst = appendBytes(dst, hd.Value)
	}
	return dst
}

func sizeBytes(b []byte) int {
	if b == nil {
		return sizeVarint(-1)
	}
	return sizeVarint(int32(len(b))) + len(b)
}

func appendBytes(dst, b []byte) []byte {
	if b == nil {
		return appendVarint(dst, -1)
	}
	return append(appendVarint(dst, int32(len(b))), b...)
}
