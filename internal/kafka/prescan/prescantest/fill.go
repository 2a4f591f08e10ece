// Package prescantest builds requests for tests of the decoder limits:
// kmsg requests with every field set at random, and crafted bodies that
// break one limit each.
package prescantest

import (
	"encoding/binary"
	"math/rand/v2"
	"reflect"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Filled returns a request of key at version with every field set at
// random (short strings, arrays of up to three elements, sometimes null
// pointers and unknown tags), or nil if kmsg has no request of that key.
func Filled(r *rand.Rand, key, version int16) kmsg.Request {
	req := kmsg.RequestForKey(key)
	if req == nil {
		return nil
	}
	fill(r, reflect.ValueOf(req).Elem(), 0)
	req.SetVersion(version)
	return req
}

func fill(r *rand.Rand, v reflect.Value, depth int) {
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(r.IntN(2) == 1)
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(r.IntN(1000)) - 1)
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(r.IntN(1000)))
	case reflect.Float64:
		v.SetFloat(r.Float64())
	case reflect.String:
		v.SetString(randString(r))
	case reflect.Array: // uuids
		for i := 0; i < v.Len(); i++ {
			v.Index(i).SetUint(uint64(r.IntN(256)))
		}
	case reflect.Pointer:
		if r.IntN(3) == 0 || depth > 6 {
			return
		}
		p := reflect.New(v.Type().Elem())
		fill(r, p.Elem(), depth+1)
		v.Set(p)
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 { // bytes
			if r.IntN(4) != 0 {
				v.SetBytes([]byte(randString(r)))
			}
			return
		}
		n := r.IntN(4)
		if depth > 6 {
			n = 0
		}
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := 0; i < n; i++ {
			fill(r, s.Index(i), depth+1)
		}
		v.Set(s)
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(kmsg.Tags{}) {
			if r.IntN(4) == 0 {
				t := v.Addr().Interface().(*kmsg.Tags)
				t.Set(uint32(50+r.IntN(50)), []byte(randString(r)))
			}
			return
		}
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).Name == "Version" || !v.Field(i).CanSet() {
				continue
			}
			fill(r, v.Field(i), depth+1)
		}
	}
}

func randString(r *rand.Rand) string {
	b := make([]byte, r.IntN(6))
	for i := range b {
		b[i] = byte('a' + r.IntN(26))
	}
	return string(b)
}

// Crafted is a request body built by hand to break a limit.
type Crafted struct {
	Key, Version int16
	Body         []byte
}

// LongArray is an OffsetFetch v1 (classic encoding) whose one topic
// lists n partitions: an int32 array with every element present, so the
// body is about 4n bytes and fits kmsg's own length checks.
func LongArray(n int) Crafted {
	b := binary.BigEndian.AppendUint16(nil, 1)
	b = append(b, 'g')
	b = binary.BigEndian.AppendUint32(b, 1) // topics
	b = binary.BigEndian.AppendUint16(b, 1)
	b = append(b, 't')
	b = binary.BigEndian.AppendUint32(b, uint32(n)) // partitions
	b = append(b, make([]byte, 4*n)...)
	return Crafted{Key: 9, Version: 1, Body: b}
}

// EmptyTopics is a Produce v9 (compact encoding) with n topics, each
// three bytes on the wire (empty name, no partitions, no tags) and a
// ProduceRequestTopic in Go: the array amplifies ~20 times.
func EmptyTopics(n int) Crafted {
	b := []byte{0}            // null transactional id
	b = append(b, 0xff, 0xff) // acks -1
	b = binary.BigEndian.AppendUint32(b, 1000)
	b = binary.AppendUvarint(b, uint64(n)+1)
	for i := 0; i < n; i++ {
		b = append(b, 1, 1, 0)
	}
	return Crafted{Key: 0, Version: 9, Body: append(b, 0)}
}

// ManyTags is an ApiVersions v3 body whose tag section holds n unknown
// tagged fields of no bytes each (two bytes per field on the wire).
func ManyTags(n int) Crafted {
	b := []byte{2, 'c', 2, '1'} // client software name and version
	b = binary.AppendUvarint(b, uint64(n))
	for i := 0; i < n; i++ {
		b = binary.AppendUvarint(b, uint64(100+i))
		b = append(b, 0)
	}
	return Crafted{Key: 18, Version: 3, Body: b}
}
