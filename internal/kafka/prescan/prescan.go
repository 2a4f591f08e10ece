package prescan

import (
	"errors"
	"fmt"
)

// Limits of one request, as Apache Kafka 4.4 enforces them.
const (
	// MaxArrayLen is the most elements one array of a request may declare.
	MaxArrayLen = 1_000_000
	// MaxTaggedFields is the most tagged fields one request may carry, in
	// all its tag sections together (the header's are checked by
	// wire.ParseRequestHeader).
	MaxTaggedFields = 10_000
)

// Errors of Check. Each means the body must not be decoded; the
// connection treats them as a malformed frame.
var (
	// ErrMalformed: a length or count does not fit in the bytes that
	// remain, or a field is cut short.
	ErrMalformed = errors.New("malformed request body")
	// ErrArrayTooLong: an array declares more than MaxArrayLen elements.
	ErrArrayTooLong = errors.New("request array too long")
	// ErrTooManyTags: more than MaxTaggedFields tagged fields.
	ErrTooManyTags = errors.New("too many tagged fields in request")
	// ErrTooLarge: decoding would allocate more than the request's budget
	// (DecodeBudget).
	ErrTooLarge = errors.New("request decodes too large")
	// ErrUnknown: no layout is known for the API key and version.
	ErrUnknown = errors.New("no layout for request")
)

// DecodeBudget is the most memory decoding a body of n bytes may allocate
// for the Go values kmsg builds (arrays of structs, nullable structs and
// strings, unknown tagged fields): 16 MiB plus 8 times the body. A
// legitimate request decodes into at most ~4 times its size (an array
// element of a real request holds data: an OffsetCommit partition with
// empty metadata is 18 bytes on the wire and ~72 in Go); only elements
// that are nearly empty on the wire and large in Go reach more (a
// Produce v9+ topic: 3 and 64).
func DecodeBudget(n int) int64 { return 16<<20 + 8*int64(n) }

// unknownTagGoSize is what kmsg spends per unknown tagged field: a map
// entry (key, slice header, overhead) in the struct's UnknownTags.
const unknownTagGoSize = 64

// Check walks body, the body of request key at version, as kmsg will
// decode it, without allocating, and reports whether decoding it stays
// within the limits: every array at most MaxArrayLen elements and each
// array's elements able to fit in the bytes that remain, every string
// and byte length within the bytes that remain, at most
// MaxTaggedFields tagged fields, and the decoded values within
// DecodeBudget. A body Check accepts is read by kmsg exactly as Check
// read it.
func Check(key, version int16, body []byte) error {
	if key < 0 || int(key) >= len(programs) || version < 0 || int(version) >= len(programs[key]) {
		return fmt.Errorf("%w: api key %d version %d", ErrUnknown, key, version)
	}
	w := walker{b: body, budget: DecodeBudget(len(body))}
	return w.structure(programs[key][version])
}

// walker reads a body the way kmsg's generated readFrom does. Bytes past
// the end of the body's fields are allowed, as kmsg allows them.
type walker struct {
	b      []byte
	tags   int   // tagged fields read so far
	budget int64 // bytes the decoded values may still take
	strict bool  // a known tagged field must fill its bytes (tests prove the layouts with it)
}

func (w *walker) spend(n int64) error {
	w.budget -= n
	if w.budget < 0 {
		return ErrTooLarge
	}
	return nil
}

func (w *walker) skip(n int) error {
	if n < 0 || n > len(w.b) {
		return ErrMalformed
	}
	w.b = w.b[n:]
	return nil
}

// uvarint reads a uvarint of at most 32 bits as kbin.Reader.Uvarint does.
func (w *walker) uvarint() (uint32, error) {
	if len(w.b) > 0 && w.b[0] < 0x80 { // most are one byte
		x := uint32(w.b[0])
		w.b = w.b[1:]
		return x, nil
	}
	var x uint32
	for i := 0; i < 5; i++ {
		if i >= len(w.b) {
			return 0, ErrMalformed
		}
		c := w.b[i]
		if i == 4 {
			if c > 0x0f {
				return 0, ErrMalformed
			}
			w.b = w.b[5:]
			return x | uint32(c)<<28, nil
		}
		x |= uint32(c&0x7f) << (7 * i)
		if c < 0x80 {
			w.b = w.b[i+1:]
			return x, nil
		}
	}
	return 0, ErrMalformed // not reached
}

func (w *walker) int16() (int16, error) {
	if len(w.b) < 2 {
		return 0, ErrMalformed
	}
	v := int16(uint16(w.b[0])<<8 | uint16(w.b[1]))
	w.b = w.b[2:]
	return v, nil
}

func (w *walker) int32() (int32, error) {
	if len(w.b) < 4 {
		return 0, ErrMalformed
	}
	v := int32(uint32(w.b[0])<<24 | uint32(w.b[1])<<16 | uint32(w.b[2])<<8 | uint32(w.b[3]))
	w.b = w.b[4:]
	return v, nil
}

// length reads a string's or bytes' length: a uvarint minus one when
// compact, else an int16 (strings) or int32 (bytes).
func (w *walker) length(compact, wide bool) (int, error) {
	switch {
	case compact:
		u, err := w.uvarint()
		return int(u) - 1, err
	case wide:
		n, err := w.int32()
		return int(n), err
	default:
		n, err := w.int16()
		return int(n), err
	}
}

func (w *walker) structure(p *program) error {
	for i := range p.body {
		if err := w.field(&p.body[i]); err != nil {
			return err
		}
	}
	if p.flexible {
		return w.tagSection(p)
	}
	return nil
}

func (w *walker) field(o *op) error {
	switch o.kind {
	case kString:
		n, err := w.length(o.compact, false)
		if err != nil {
			return err
		}
		if n < 0 && o.nullable {
			return nil
		}
		if err := w.skip(n); err != nil {
			return err
		}
		return w.spend(int64(n) + o.goSize)
	case kBytes, kNullableBytes:
		n, err := w.length(o.compact, true)
		if err != nil || n == -1 || n < 0 && o.kind == kNullableBytes {
			return err
		}
		return w.skip(n) // kmsg keeps a slice of the body: no copy
	case kVarintBytes:
		u, err := w.uvarint()
		if err != nil {
			return err
		}
		n := int32(u>>1) ^ -int32(u&1)
		if n < 0 {
			return nil
		}
		return w.skip(int(n))
	case kVarint, kVarlong:
		max := 5
		if o.kind == kVarlong {
			max = 10
		}
		for i := 0; i < max && i < len(w.b); i++ {
			if w.b[i] < 0x80 {
				if i == max-1 && (o.kind == kVarint && w.b[i] > 0x0f || o.kind == kVarlong && w.b[i] > 0x01) {
					return ErrMalformed
				}
				w.b = w.b[i+1:]
				return nil
			}
		}
		return ErrMalformed
	case kArray:
		return w.array(o)
	case kStruct:
		if o.nullable {
			if len(w.b) < 1 {
				return ErrMalformed
			}
			present := int8(w.b[0])
			w.b = w.b[1:]
			if present == -1 {
				return nil
			}
			if err := w.spend(o.goSize); err != nil {
				return err
			}
		}
		return w.structure(o.sub)
	default:
		return w.skip(o.min)
	}
}

// array reads an array's length as kmsg's readArrayLen does, checks it,
// then its elements.
func (w *walker) array(o *op) error {
	var n int32
	if o.compact {
		u, err := w.uvarint()
		if err != nil {
			return err
		}
		n = int32(u) - 1
	} else {
		var err error
		if n, err = w.int32(); err != nil {
			return err
		}
	}
	if n <= 0 {
		return nil // null or empty: kmsg allocates nothing
	}
	e := o.elem
	if int64(n)*int64(max(e.min, 1)) > int64(len(w.b)) {
		return ErrMalformed
	}
	if n > MaxArrayLen {
		return fmt.Errorf("%w: %d elements", ErrArrayTooLong, n)
	}
	if err := w.spend(int64(n) * e.goSize); err != nil {
		return err
	}
	if e.fixed > 0 {
		return w.skip(int(n) * e.fixed)
	}
	for i := int32(0); i < n; i++ {
		if err := w.field(e); err != nil {
			return err
		}
	}
	return nil
}

// tagSection reads a struct's tagged fields: a uvarint count, then per
// field a uvarint tag, a uvarint size and that many bytes. A tag the
// struct knows is decoded from its bytes (which may hold more than the
// field, as kmsg allows); any other is kept whole by kmsg.
func (w *walker) tagSection(p *program) error {
	count, err := w.uvarint()
	if err != nil || count == 0 {
		return err
	}
	if int64(count) > MaxTaggedFields || w.tags+int(count) > MaxTaggedFields {
		return fmt.Errorf("%w: %d", ErrTooManyTags, w.tags+int(count))
	}
	if int64(count)*2 > int64(len(w.b)) { // a tag and a size, at least a byte each
		return ErrMalformed
	}
	w.tags += int(count)
	for ; count > 0; count-- {
		tag, err := w.uvarint()
		if err != nil {
			return err
		}
		size, err := w.uvarint()
		if err != nil {
			return err
		}
		if int64(size) > int64(len(w.b)) {
			return ErrMalformed
		}
		val, rest := w.b[:size], w.b[size:]
		if int(tag) < len(p.tags) && p.tags[tag] != nil {
			w.b = val
			if err := w.field(p.tags[tag]); err != nil {
				return err
			}
			if w.strict && len(w.b) != 0 {
				return fmt.Errorf("%w: %d bytes left in tag %d", ErrMalformed, len(w.b), tag)
			}
		} else if err := w.spend(unknownTagGoSize); err != nil {
			return err
		}
		w.b = rest
	}
	return nil
}
