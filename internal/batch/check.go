package batch

import (
	"fmt"
	"math"
)

// ProduceRules are the topic settings that Kafka's LogValidator holds a
// produced batch to, record by record. A plain value, safe to copy.
type ProduceRules struct {
	// NowMs is the broker's clock, for the timestamp window.
	NowMs int64
	// LogAppendTime is the topic's message.timestamp.type=LogAppendTime:
	// record timestamps are not checked (the broker stamps the batch),
	// but a producer may not mark its batch LogAppendTime itself.
	LogAppendTime bool
	// TimestampBeforeMaxMs and TimestampAfterMaxMs are
	// message.timestamp.before.max.ms and .after.max.ms: under CreateTime
	// a record's timestamp (other than -1, "none") must lie within
	// [NowMs-before, NowMs+after]. Zero or less means no bound.
	TimestampBeforeMaxMs int64
	TimestampAfterMaxMs  int64
	// RequireKeys is set for a compacted topic: every record needs a key.
	RequireKeys bool
}

// Checked is a batch that CheckRecords accepted: what it learned, and the
// decompressed records of a compressed batch, held in a pooled buffer
// until Release so that a recompression need not decompress again.
// Not safe for concurrent use.
type Checked struct {
	// MaxTimestamp is the largest record timestamp, -1 when no record
	// has one above -1 (Kafka's maxTimestamp of a batch's records).
	MaxTimestamp int64

	payload []byte  // the records, uncompressed (aliases the batch or r.buf)
	r       *Reader // holds payload for a compressed batch, else nil
}

// Release returns the decompression buffer to its pool. The Checked must
// not be used after.
func (c *Checked) Release() {
	if c.r != nil {
		putReader(c.r)
	}
	*c = Checked{MaxTimestamp: c.MaxTimestamp}
}

// Recompress is Recompress(b, codec, dst, ...) for the batch b that was
// checked, from the records already decompressed.
func (c *Checked) Recompress(b []byte, codec int, dst []byte) ([]byte, error) {
	return reencode(b, c.payload, codec, dst)
}

// CheckRecords checks every record of the single batch b, which must have
// passed Validate, in place and without allocating when b is not
// compressed; a compressed batch is decompressed once (at most
// maxUncompressed bytes, zero meaning DefaultMaxUncompressed) into a
// pooled buffer that the result holds until Release.
//
// The structure, as Kafka's DefaultRecordBatch and DefaultRecord read it:
// each record's length and varints must lie within the batch, its fields
// must fill its length exactly, header counts must not be negative nor
// header keys null, and the batch must hold exactly the records its header
// counts, with no byte left over. Any break is ErrInvalid, as is an offset
// delta other than the record's index (producers write 0, 1, 2, ...; Sluice
// stores the batch as sent, so it cannot renumber them as Kafka's
// validator does). A compressed payload that does not decompress is
// ErrDecompress, one that decompresses past the bound ErrTooLarge.
//
// With rules (a batch from a producer) also, as Kafka for a client's
// batch: the base offset must be 0 and an idempotent batch needs a base
// sequence (ErrInvalid); and each record is held to the topic's rules,
// refused records being listed in a *RecordsError: a null key in a
// compacted topic (ErrInvalid), a CreateTime timestamp outside the window
// or a producer that marked its batch LogAppendTime (ErrInvalidTimestamp).
// A structural error wins over refused records, as in Kafka.
//
// Safe for concurrent use.
func CheckRecords(b []byte, maxUncompressed int, rules *ProduceRules) (Checked, error) {
	h := Header(b)
	if rules != nil {
		if h.BaseOffset() != 0 {
			return Checked{}, fmt.Errorf("%w: base offset %d, a producer sends 0", ErrInvalid, h.BaseOffset())
		}
		if h.ProducerID() >= 0 && h.BaseSequence() < 0 {
			return Checked{}, fmt.Errorf("%w: base sequence %d with producer id %d", ErrInvalid, h.BaseSequence(), h.ProducerID())
		}
	}
	c := Checked{payload: b[HeaderSize:]}
	if h.Codec() != CodecNone {
		if maxUncompressed <= 0 {
			maxUncompressed = DefaultMaxUncompressed
		}
		c.r = readers.Get().(*Reader)
		var err error
		c.r.buf, err = decompress(h.Codec(), c.payload, c.r.buf[:0], maxUncompressed, ErrDecompress)
		if err != nil {
			c.Release()
			return Checked{}, err
		}
		c.payload = c.r.buf
	}
	w := walker{
		count:      h.RecordCount(),
		firstTS:    h.FirstTimestamp(),
		appendTime: h.LogAppendTime(),
		batchMaxTS: h.MaxTimestamp(),
		lo:         math.MinInt64,
		hi:         math.MaxInt64,
		maxTS:      -1,
	}
	if rules != nil {
		w.rules, w.produce = *rules, true
		w.window(w.rules)
	}
	if err := w.walk(c.payload); err != nil {
		c.Release()
		return Checked{}, err
	}
	c.MaxTimestamp = w.maxTS
	return c, nil
}

// ValidateRecords fully checks the single batch b: everything Validate
// checks, then the structure of every record (CheckRecords without
// produce rules), decompressing at most maxUncompressed bytes.
//
// Safe for concurrent use.
func ValidateRecords(b []byte, maxUncompressed int) error {
	if _, err := Validate(b); err != nil {
		return err
	}
	c, err := CheckRecords(b, maxUncompressed, nil)
	c.Release()
	return err
}
