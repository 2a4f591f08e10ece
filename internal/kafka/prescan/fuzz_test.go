package prescan

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/fuzzcorpus"
	"github.com/sluice-io/sluice/internal/kafka/prescan/prescantest"
)

// fuzzKeys is every request key with a layout, in order: a fuzz input
// picks one by index, so one target covers every API.
var fuzzKeys = func() []int16 {
	var keys []int16
	for k := range requests {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}()

// FuzzCheck is the request-body fuzzer, keyed by API: the input picks an
// API and version and gives a body. Check and kmsg must agree on it
// (Check accepts only what kmsg decodes; kmsg decodes nothing Check
// refuses as malformed), a body Check accepts decodes into Go values
// within DecodeBudget, and kmsg's re-encoding of it decodes and encodes
// to the same bytes.
func FuzzCheck(f *testing.F) {
	r := rand.New(rand.NewPCG(5, 6))
	for i, key := range fuzzKeys {
		max := requests[key].maxVersion
		for _, v := range []int16{0, max / 2, max} {
			fuzzcorpus.Add(f, uint8(i), uint8(v), prescantest.Filled(r, key, v).AppendTo(nil))
		}
	}
	for _, c := range []prescantest.Crafted{prescantest.LongArray(1000), prescantest.ManyTags(300), prescantest.EmptyTopics(1000)} {
		fuzzcorpus.Add(f, uint8(slices.Index(fuzzKeys, c.Key)), uint8(c.Version), c.Body)
	}
	f.Fuzz(func(t *testing.T, k, v uint8, body []byte) {
		key := fuzzKeys[int(k)%len(fuzzKeys)]
		version := int16(v) % (requests[key].maxVersion + 1)
		err := Check(key, version, body)
		req := kmsg.RequestForKey(key)
		req.SetVersion(version)
		kerr := req.ReadFrom(body)
		switch {
		case err == nil && kerr != nil:
			t.Fatalf("%s v%d: Check accepted what kmsg refuses: %v", requests[key].name, version, kerr)
		case err != nil && errors.Is(err, ErrMalformed) && kerr == nil:
			t.Fatalf("%s v%d: Check refused what kmsg decodes: %v", requests[key].name, version, err)
		case err != nil:
			return
		}
		if n := goBytes(reflect.ValueOf(req)); n > DecodeBudget(len(body)) {
			t.Fatalf("%s v%d: %d body bytes decode into %d bytes, budget %d", requests[key].name, version, len(body), n, DecodeBudget(len(body)))
		}
		enc := req.AppendTo(nil)
		if err := Check(key, version, enc); err != nil {
			t.Fatalf("%s v%d: kmsg's re-encoding refused: %v", requests[key].name, version, err)
		}
		again := kmsg.RequestForKey(key)
		again.SetVersion(version)
		if err := again.ReadFrom(enc); err != nil {
			t.Fatalf("%s v%d: kmsg cannot read its re-encoding: %v", requests[key].name, version, err)
		}
		if enc2 := again.AppendTo(nil); !bytes.Equal(enc, enc2) {
			t.Fatalf("%s v%d: re-encoding is not stable", requests[key].name, version)
		}
	})
}

// goBytes is the memory a decoded value holds beyond its own size:
// slices' and strings' backing arrays, pointers' targets, unknown tags.
func goBytes(v reflect.Value) int64 {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return 0
		}
		return int64(v.Type().Elem().Size()) + goBytes(v.Elem())
	case reflect.String:
		return int64(v.Len())
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return 0 // kmsg keeps byte slices of the body
		}
		n := int64(v.Len()) * int64(v.Type().Elem().Size())
		for i := 0; i < v.Len(); i++ {
			n += goBytes(v.Index(i))
		}
		return n
	case reflect.Struct:
		if t, ok := v.Addr().Interface().(*kmsg.Tags); ok {
			return int64(t.Len()) * unknownTagGoSize
		}
		var n int64
		for i := 0; i < v.NumField(); i++ {
			n += goBytes(v.Field(i))
		}
		return n
	}
	return 0
}
