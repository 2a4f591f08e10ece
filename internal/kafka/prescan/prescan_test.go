package prescan

import (
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/kafka/prescan/prescantest"
)

// walk is Check that also returns the bytes it did not read.
func walk(key, version int16, body []byte) ([]byte, error) {
	w := walker{b: body, budget: DecodeBudget(len(body)), strict: true}
	err := w.structure(programs[key][version])
	return w.b, err
}

// TestSchemaMatchesKmsg proves the generated layouts are kmsg's: every
// request kmsg knows has one, at kmsg's versions, with kmsg's Go types;
// and a request kmsg encodes with every field set is read by the walker
// to its last byte, at every version. It fails after a franz-go upgrade
// until schema_gen.go is regenerated (go generate).
func TestSchemaMatchesKmsg(t *testing.T) {
	if missedGoTypes != 0 {
		t.Errorf("%d fields have no kmsg Go type of their name", missedGoTypes)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for key := int16(0); key <= kmsg.MaxKey; key++ {
		req := kmsg.RequestForKey(key)
		if req == nil {
			continue
		}
		m, ok := requests[key]
		if !ok {
			t.Errorf("no layout for %s (key %d)", kmsg.NameForKey(key), key)
			continue
		}
		if m.maxVersion != req.MaxVersion() {
			t.Errorf("%s: layout max version %d, kmsg %d", m.name, m.maxVersion, req.MaxVersion())
		}
		for v := int16(0); v <= req.MaxVersion() && v <= m.maxVersion; v++ {
			for i := 0; i < 20; i++ {
				body := prescantest.Filled(r, key, v).AppendTo(nil)
				rest, err := walk(key, v, body)
				if err != nil || len(rest) != 0 {
					t.Fatalf("%s v%d: walk of a kmsg encoding: %v, %d of %d bytes left", m.name, v, err, len(rest), len(body))
				}
				back := kmsg.RequestForKey(key)
				back.SetVersion(v)
				if err := back.ReadFrom(body); err != nil {
					t.Fatalf("%s v%d: kmsg cannot read its own encoding: %v", m.name, v, err)
				}
			}
		}
	}
}

func TestCheckUnknown(t *testing.T) {
	for _, c := range []struct{ key, version int16 }{{-1, 0}, {1000, 0}, {0, -1}, {0, 1000}} {
		if err := Check(c.key, c.version, nil); !errors.Is(err, ErrUnknown) {
			t.Errorf("key %d version %d: %v, want ErrUnknown", c.key, c.version, err)
		}
	}
}

// TestLimits: each crafted body is refused for the limit it breaks, and
// accepted one step below it.
func TestLimits(t *testing.T) {
	for _, c := range []struct {
		name     string
		over, ok prescantest.Crafted
		want     error
	}{
		{"array of 1,000,001 int32", prescantest.LongArray(MaxArrayLen + 1), prescantest.LongArray(MaxArrayLen), ErrArrayTooLong},
		{"10,001 tagged fields", prescantest.ManyTags(MaxTaggedFields + 1), prescantest.ManyTags(MaxTaggedFields), ErrTooManyTags},
		{"amplifying array", prescantest.EmptyTopics(900_000), prescantest.EmptyTopics(100_000), ErrTooLarge},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := Check(c.over.Key, c.over.Version, c.over.Body); !errors.Is(err, c.want) {
				t.Errorf("over the limit: %v, want %v", err, c.want)
			}
			if err := Check(c.ok.Key, c.ok.Version, c.ok.Body); err != nil {
				t.Errorf("at the limit: %v", err)
			}
			req := kmsg.RequestForKey(c.ok.Key)
			req.SetVersion(c.ok.Version)
			if err := req.ReadFrom(c.ok.Body); err != nil {
				t.Errorf("kmsg cannot read the body at the limit: %v", err)
			}
		})
	}
}

// TestTagsCountAcrossStructs: the tagged-field limit is per request, not
// per tag section.
func TestTagsCountAcrossStructs(t *testing.T) {
	// A Produce v9 with two partitions of 5,001 unknown tags each.
	part := func(n int) []byte {
		b := []byte{0, 0, 0, 0, 0} // partition 0, null records
		b = binary.AppendUvarint(b, uint64(n))
		for i := 0; i < n; i++ {
			b = append(b, 99, 0)
		}
		return b
	}
	b := []byte{0, 0xff, 0xff, 0, 0, 3, 0xe8}
	b = append(b, 2, 2, 't', 3) // one topic "t", two partitions
	b = append(b, part(5001)...)
	b = append(b, part(5001)...)
	b = append(b, 0, 0) // topic tags, request tags
	if err := Check(0, 9, b); !errors.Is(err, ErrTooManyTags) {
		t.Fatalf("10,002 tags in two sections: %v", err)
	}
}
