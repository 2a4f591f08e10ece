package batch

import (
	"fmt"
	"math"
)

// The record walker of CheckRecords: it reads each record's length and
// varints where they lie and skips keys, values and headers by their
// lengths, so a produced batch is checked without copying or allocating
// (DESIGN.md §4: no per-record allocation on produce). The record layout
// is in record_parse.go.

// walker checks the records of one batch.
type walker struct {
	count      int32 // records the header counts
	firstTS    int64 // the header's base timestamp
	appendTime bool  // the batch is marked LogAppendTime: every record's timestamp is batchMaxTS
	batchMaxTS int64

	// rules are copied in, not pointed to: the walker's pointers leak to
	// walk's error, which would move a caller's rules to the heap.
	rules   ProduceRules
	produce bool  // rules apply; else the structure only
	lo, hi  int64 // the CreateTime window, inclusive

	maxTS int64         // largest record timestamp seen, from -1
	rerr  *RecordsError // refused records; allocated on the first
}

// window sets lo and hi from the rules, saturating instead of overflowing.
func (w *walker) window(r ProduceRules) {
	if b := r.TimestampBeforeMaxMs; b > 0 {
		if r.NowMs < math.MinInt64+b {
			w.lo = math.MinInt64
		} else {
			w.lo = r.NowMs - b
		}
	}
	if a := r.TimestampAfterMaxMs; a > 0 {
		if r.NowMs > math.MaxInt64-a {
			w.hi = math.MaxInt64
		} else {
			w.hi = r.NowMs + a
		}
	}
}

// walk checks every record of the uncompressed records p.
func (w *walker) walk(p []byte) error {
	var i int32
	for ; len(p) > 0; i++ {
		if i == w.count {
			return fmt.Errorf("%w: %d bytes left after the %d records the header counts", ErrInvalid, len(p), w.count)
		}
		n, tsDelta, offDelta, nullKey, err := skipRecord(p)
		if err != nil {
			return fmt.Errorf("%w: record %d: %v", ErrInvalid, i, err)
		}
		if offDelta != i {
			return fmt.Errorf("%w: record %d has offset delta %d", ErrInvalid, i, offDelta)
		}
		ts := w.firstTS + tsDelta
		if w.appendTime {
			ts = w.batchMaxTS
		}
		w.maxTS = max(w.maxTS, ts)
		if w.produce {
			w.apply(i, ts, nullKey)
		}
		p = p[n:]
	}
	if i != w.count {
		return fmt.Errorf("%w: header counts %d records, batch holds %d", ErrInvalid, w.count, i)
	}
	if w.rerr != nil {
		return w.rerr
	}
	return nil
}

// apply holds record i to the topic's rules, in the order of Kafka's
// validateRecord: the key first, then the timestamp; one error a record.
func (w *walker) apply(i int32, ts int64, nullKey bool) {
	switch {
	case nullKey && w.rules.RequireKeys:
		w.refuse(i, false, func() string { return "compacted topic cannot accept a record without key" })
	case !w.rules.LogAppendTime && ts != -1:
		if ts < w.lo || ts > w.hi {
			w.refuse(i, true, func() string {
				return fmt.Sprintf("timestamp %d is out of range [%d, %d] (message.timestamp.before.max.ms, after.max.ms)", ts, w.lo, w.hi)
			})
		}
	case w.appendTime:
		w.refuse(i, true, func() string { return "a producer may not set the timestamp type to LogAppendTime" })
	}
}

func (w *walker) refuse(i int32, timestamp bool, msg func() string) {
	if w.rerr == nil {
		w.rerr = &RecordsError{Err: ErrInvalid}
	}
	w.rerr.add(i, timestamp, msg)
}

// skipRecord reads the record at the front of p: its size on the wire,
// timestamp and offset deltas, and whether its key is null. Keys, values
// and headers are skipped by their lengths; every length is checked
// against the record's own length first.
func skipRecord(p []byte) (n int, tsDelta int64, offDelta int32, nullKey bool, err error) {
	length, k := readVarint(p)
	switch {
	case k <= 0:
		return 0, 0, 0, false, errVarint
	case length < 0:
		return 0, 0, 0, false, errNegative
	case int(length) > len(p)-k || length == 0: // the attributes byte at least
		return 0, 0, 0, false, errLength
	}
	body := p[k : k+int(length)]
	pos := 1 // attributes: unused in v2
	tsDelta, m := readVarlong(body[pos:])
	if m <= 0 {
		return 0, 0, 0, false, errVarint
	}
	pos += m
	offDelta, m = readVarint(body[pos:])
	if m <= 0 {
		return 0, 0, 0, false, errVarint
	}
	pos += m
	var keyLen, count int32
	if keyLen, pos, err = skipBytes(body, pos); err != nil {
		return 0, 0, 0, false, err
	}
	if _, pos, err = skipBytes(body, pos); err != nil { // value
		return 0, 0, 0, false, err
	}
	if count, m = readVarint(body[pos:]); m <= 0 {
		return 0, 0, 0, false, errVarint
	}
	if count < 0 {
		return 0, 0, 0, false, errNegative
	}
	pos += m
	// Each header takes two bytes at least, so a huge count fails on
	// the first missing byte.
	for range count {
		var hk int32
		if hk, pos, err = skipBytes(body, pos); err != nil {
			return 0, 0, 0, false, err
		}
		if hk < 0 {
			return 0, 0, 0, false, errHeaderKey
		}
		if _, pos, err = skipBytes(body, pos); err != nil { // header value
			return 0, 0, 0, false, err
		}
	}
	if pos != len(body) {
		return 0, 0, 0, false, errRecordSize
	}
	return k + int(length), tsDelta, offDelta, keyLen < 0, nil
}

// skipBytes reads a varint length at b[pos:] and skips that many bytes;
// -1 is null. It returns the length and the position after the bytes.
func skipBytes(b []byte, pos int) (int32, int, error) {
	l, k := readVarint(b[pos:])
	if k <= 0 {
		return 0, 0, errVarint
	}
	pos += k
	switch {
	case l < -1:
		return 0, 0, errNegative
	case int(l) > len(b)-pos:
		return 0, 0, errLength
	}
	return l, pos + max(int(l), 0), nil
}
