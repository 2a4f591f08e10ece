package batch

import "errors"

// A record inside a batch's (decompressed) payload:
//
//	length         varint  bytes that follow
//	attributes     int8    unused
//	timestampDelta varlong from the batch's first timestamp
//	offsetDelta    varint  from the batch's base offset
//	keyLength      varint  -1 for null
//	key            bytes
//	valueLength    varint  -1 for null
//	value          bytes
//	headerCount    varint
//	headers        headerKeyLength varint, headerKey, headerValueLength varint, headerValue
//
// Every length is checked against what is left before anything is sliced,
// and nothing is allocated from a count: a header count of two billion in
// a ten-byte record fails on the first missing byte.

var (
	errVarint     = errors.New("bad varint")
	errLength     = errors.New("length past the end")
	errHeaderKey  = errors.New("null header key")
	errNegative   = errors.New("negative count or length")
	errRecordSize = errors.New("record length does not match its fields")
)

// recordParser turns payload bytes into Records for one batch.
type recordParser struct {
	baseOffset  int64
	baseTime    int64
	maxTime     int64
	appendTime  bool // LogAppendTime: every record's timestamp is maxTime
	withHeaders bool // build Headers (allocates the key strings)
}

// parse reads one record from the front of b into rec and returns how many
// bytes it took. rec's slices alias b.
func (p *recordParser) parse(b []byte, rec *Record) (int, error) {
	length, n := readVarint(b)
	if n <= 0 {
		return 0, errVarint
	}
	if length < 0 {
		return 0, errNegative
	}
	if int(length) > len(b)-n {
		return 0, errLength
	}
	body := b[n : n+int(length)]
	if len(body) < 1 {
		return 0, errLength
	}
	pos := 1 // attributes: unused by Kafka
	tsDelta, k := readVarlong(body[pos:])
	if k <= 0 {
		return 0, errVarint
	}
	pos += k
	offDelta, k := readVarint(body[pos:])
	if k <= 0 {
		return 0, errVarint
	}
	pos += k
	var err error
	if rec.Key, pos, err = readBytes(body, pos); err != nil {
		return 0, err
	}
	if rec.Value, pos, err = readBytes(body, pos); err != nil {
		return 0, err
	}
	if pos, err = p.headers(body, pos, rec); err != nil {
		return 0, err
	}
	if pos != len(body) {
		return 0, errRecordSize
	}
	rec.Offset = p.baseOffset + int64(offDelta)
	rec.Timestamp = p.baseTime + tsDelta
	if p.appendTime {
		rec.Timestamp = p.maxTime
	}
	return n + int(length), nil
}

func (p *recordParser) headers(body []byte, pos int, rec *Record) (int, error) {
	count, k := readVarint(body[pos:])
	if k <= 0 {
		return 0, errVarint
	}
	if count < 0 {
		return 0, errNegative
	}
	pos += k
	rec.Headers = rec.Headers[:0]
	for range count {
		var key, value []byte
		var err error
		if key, pos, err = readBytes(body, pos); err != nil {
			return 0, err
		}
		if key == nil {
			return 0, errHeaderKey
		}
		if value, pos, err = readBytes(body, pos); err != nil {
			return 0, err
		}
		if p.withHeaders {
			rec.Headers = append(rec.Headers, RecordHeader{Key: string(key), Value: value})
		}
	}
	return pos, nil
}

// readBytes reads a varint length and that many bytes at b[pos:]; -1 is
// null.
func readBytes(b []byte, pos int) ([]byte, int, error) {
	l, k := readVarint(b[pos:])
	if k <= 0 {
		return nil, 0, errVarint
	}
	pos += k
	switch {
	case l == -1:
		return nil, pos, nil
	case l < -1:
		return nil, 0, errNegative
	case int(l) > len(b)-pos:
		return nil, 0, errLength
	}
	return b[pos : pos+int(l) : pos+int(l)], pos + int(l), nil
}
