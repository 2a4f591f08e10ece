package batch

import "fmt"

// Validate checks that b holds exactly one well-formed v2 batch: lengths,
// magic, CRC32C, and the header fields a producer must fill coherently.
// It does not decompress. It returns the batch header view.
func Validate(b []byte) (Header, error) {
	if len(b) < HeaderSize {
		if len(b) > offMagic && int8(b[offMagic]) != 2 {
			return nil, ErrMagic
		}
		return nil, fmt.Errorf("%w: %d bytes is shorter than a batch header", ErrCorrupt, len(b))
	}
	h := Header(b)
	if h.Magic() != 2 {
		return nil, fmt.Errorf("%w: magic %d", ErrMagic, h.Magic())
	}
	if h.BatchLength() < HeaderSize-LogOverhead || h.Size() != len(b) {
		return nil, fmt.Errorf("%w: batch length %d does not match %d bytes", ErrCorrupt, h.BatchLength(), len(b))
	}
	if got := ComputeCRC(b); got != h.CRC() {
		return nil, fmt.Errorf("%w: crc %08x, computed %08x", ErrCorrupt, h.CRC(), got)
	}
	n := h.RecordCount()
	if n <= 0 {
		return nil, fmt.Errorf("%w: record count %d", ErrInvalid, n)
	}
	if h.LastOffsetDelta() != n-1 {
		return nil, fmt.Errorf("%w: last offset delta %d with %d records", ErrInvalid, h.LastOffsetDelta(), n)
	}
	if h.Codec() > CodecZstd {
		return nil, fmt.Errorf("%w: compression codec %d", ErrInvalid, h.Codec())
	}
	if h.Codec() == CodecNone && int(h.BatchLength())-(HeaderSize-LogOverhead) < int(n) {
		// Kafka reads past the end and answers INVALID_RECORD
		// ("Incorrect declared batch size").
		return nil, fmt.Errorf("%w: %d records cannot fit in %d bytes", ErrInvalid, n, h.BatchLength())
	}
	return h, nil
}

// ScanStored walks the concatenated batches in b as they sit in a log file
// and calls fn for each complete batch whose CRC checks. It stops at the
// first torn or corrupt batch and returns the number of bytes that were
// good, so recovery can truncate the rest.
func ScanStored(b []byte, fn func(h Header) error) (good int, err error) {
	for len(b)-good >= HeaderSize {
		h := Header(b[good:])
		size := h.Size()
		if h.Magic() != 2 || h.BatchLength() < HeaderSize-LogOverhead || size > len(b)-good {
			return good, nil
		}
		if ComputeCRC(b[good:good+size]) != h.CRC() {
			return good, nil
		}
		if err := fn(Header(b[good : good+size])); err != nil {
			return good, err
		}
		good += size
	}
	return good, nil
}
