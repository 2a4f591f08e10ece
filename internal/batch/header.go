package batch

import (
	"encoding/binary"
	"hash/crc32"
)

// Header field offsets inside a v2 record batch.
const (
	offBaseOffset      = 0
	offBatchLength     = 8
	offLeaderEpoch     = 12
	offMagic           = 16
	offCRC             = 17
	offAttributes      = 21 // CRC covers everything from here on
	offLastOffsetDelta = 23
	offFirstTimestamp  = 27
	offMaxTimestamp    = 35
	offProducerID      = 43
	offProducerEpoch   = 51
	offBaseSequence    = 53
	offRecordCount     = 57

	// HeaderSize is the size of the fixed v2 batch header.
	HeaderSize = 61
	// LogOverhead is the part of the header not counted by BatchLength.
	LogOverhead = 12
)

// Attribute bits.
const (
	CompressionMask  = 0x07
	TimestampTypeBit = 0x08
	TransactionalBit = 0x10
	ControlBit       = 0x20
	DeleteHorizonBit = 0x40
)

// Compression codecs, as numbered in the attributes.
const (
	CodecNone   = 0
	CodecGzip   = 1
	CodecSnappy = 2
	CodecLZ4    = 3
	CodecZstd   = 4
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Header is a read-only view of the fixed header at the start of b. It does
// not check lengths; use Validate (or Size) first. Reading is safe for
// concurrent use while nobody writes the bytes.
type Header []byte

func (h Header) BaseOffset() int64  { return int64(binary.BigEndian.Uint64(h[offBaseOffset:])) }
func (h Header) BatchLength() int32 { return int32(binary.BigEndian.Uint32(h[offBatchLength:])) }
func (h Header) LeaderEpoch() int32 { return int32(binary.BigEndian.Uint32(h[offLeaderEpoch:])) }
func (h Header) Magic() int8        { return int8(h[offMagic]) }
func (h Header) CRC() uint32        { return binary.BigEndian.Uint32(h[offCRC:]) }
func (h Header) Attributes() int16  { return int16(binary.BigEndian.Uint16(h[offAttributes:])) }
func (h Header) LastOffsetDelta() int32 {
	return int32(binary.BigEndian.Uint32(h[offLastOffsetDelta:]))
}
func (h Header) FirstTimestamp() int64 { return int64(binary.BigEndian.Uint64(h[offFirstTimestamp:])) }
func (h Header) MaxTimestamp() int64   { return int64(binary.BigEndian.Uint64(h[offMaxTimestamp:])) }
func (h Header) ProducerID() int64     { return int64(binary.BigEndian.Uint64(h[offProducerID:])) }
func (h Header) ProducerEpoch() int16  { return int16(binary.BigEndian.Uint16(h[offProducerEpoch:])) }
func (h Header) BaseSequence() int32   { return int32(binary.BigEndian.Uint32(h[offBaseSequence:])) }
func (h Header) RecordCount() int32    { return int32(binary.BigEndian.Uint32(h[offRecordCount:])) }

// Size is the whole batch size on the wire and on disk.
func (h Header) Size() int { return int(h.BatchLength()) + LogOverhead }

// LastOffset is the offset of the batch's last record.
func (h Header) LastOffset() int64 { return h.BaseOffset() + int64(h.LastOffsetDelta()) }

// NextOffset is the offset that follows the batch.
func (h Header) NextOffset() int64 { return h.LastOffset() + 1 }

// Codec is the compression codec from the attributes.
func (h Header) Codec() int { return int(h.Attributes() & CompressionMask) }

// IsTransactional reports the transactional attribute bit.
func (h Header) IsTransactional() bool { return h.Attributes()&TransactionalBit != 0 }

// IsControl reports the control attribute bit.
func (h Header) IsControl() bool { return h.Attributes()&ControlBit != 0 }

// LogAppendTime reports whether the timestamp type is LogAppendTime.
func (h Header) LogAppendTime() bool { return h.Attributes()&TimestampTypeBit != 0 }

// SetBaseOffset writes the base offset in place. The CRC does not cover it.
func SetBaseOffset(b []byte, off int64) { binary.BigEndian.PutUint64(b[offBaseOffset:], uint64(off)) }

// SetLeaderEpoch writes the partition leader epoch in place. The CRC does not
// cover it.
func SetLeaderEpoch(b []byte, epoch int32) {
	binary.BigEndian.PutUint32(b[offLeaderEpoch:], uint32(epoch))
}

// SetLogAppendTime marks the batch as LogAppendTime with max timestamp ts and
// recomputes the CRC (Kafka sets only the max timestamp; records keep their
// deltas).
func SetLogAppendTime(b []byte, ts int64) {
	attrs := binary.BigEndian.Uint16(b[offAttributes:]) | TimestampTypeBit
	binary.BigEndian.PutUint16(b[offAttributes:], attrs)
	binary.BigEndian.PutUint64(b[offMaxTimestamp:], uint64(ts))
	binary.BigEndian.PutUint32(b[offCRC:], ComputeCRC(b))
}

// SetCreateTime marks the batch CreateTime with max timestamp ts and
// recomputes the CRC, unless it already is both. Kafka's validator does
// this to every produced batch of a CreateTime topic: the max timestamp
// becomes the largest record timestamp (Checked.MaxTimestamp), whatever
// the producer wrote.
func SetCreateTime(b []byte, ts int64) {
	h := Header(b)
	if !h.LogAppendTime() && h.MaxTimestamp() == ts {
		return
	}
	attrs := binary.BigEndian.Uint16(b[offAttributes:]) &^ TimestampTypeBit
	binary.BigEndian.PutUint16(b[offAttributes:], attrs)
	binary.BigEndian.PutUint64(b[offMaxTimestamp:], uint64(ts))
	binary.BigEndian.PutUint32(b[offCRC:], ComputeCRC(b))
}

// ComputeCRC computes the CRC32C of a whole batch (attributes to the end).
func ComputeCRC(b []byte) uint32 { return crc32.Checksum(b[offAttributes:], castagnoli) }
