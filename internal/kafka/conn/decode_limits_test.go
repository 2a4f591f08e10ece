package conn

import (
	"errors"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/kafka/handler"
	"github.com/sluice-io/sluice/internal/kafka/prescan"
	"github.com/sluice-io/sluice/internal/kafka/prescan/prescantest"
	"github.com/sluice-io/sluice/internal/kafka/wire"
)

// allocated returns the bytes fn allocates on the heap.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestDecodeRefusesOverLimits: a request over one of Kafka's decoder
// limits is a malformed frame (the connection closes), and refusing it
// allocates almost nothing, where kmsg alone would allocate the arrays.
func TestDecodeRefusesOverLimits(t *testing.T) {
	for _, c := range []struct {
		name    string
		crafted prescantest.Crafted
	}{
		{"array of 1,000,001 elements", prescantest.LongArray(prescan.MaxArrayLen + 1)},
		{"10,001 tagged fields", prescantest.ManyTags(prescan.MaxTaggedFields + 1)},
		{"900,000 empty produce topics", prescantest.EmptyTopics(900_000)},
	} {
		t.Run(c.name, func(t *testing.T) {
			hdr := wire.RequestHeader{APIKey: c.crafted.Key, APIVersion: c.crafted.Version}
			var err error
			n := allocated(func() { _, _, err = decode(hdr, c.crafted.Body) })
			if !errors.Is(err, wire.ErrMalformed) {
				t.Fatalf("decode: %v, want a malformed frame", err)
			}
			if n > 64<<10 {
				t.Errorf("refusing the request allocated %d bytes", n)
			}
			unguarded := allocated(func() {
				req := kmsg.RequestForKey(c.crafted.Key)
				req.SetVersion(c.crafted.Version)
				req.ReadFrom(c.crafted.Body)
			})
			t.Logf("body %d bytes; refused with %d bytes allocated; kmsg alone allocates %d", len(c.crafted.Body), n, unguarded)
		})
	}
}

// TestDecodeServedAPIs: a request of every API and version the broker
// serves, with every field set, still decodes.
func TestDecodeServedAPIs(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	served := 0
	for key := int16(0); key <= kmsg.MaxKey; key++ {
		for v := int16(0); v <= 100; v++ {
			if !handler.Supported(key, v) {
				continue
			}
			served++
			for i := 0; i < 10; i++ {
				req := prescantest.Filled(r, key, v)
				body := req.AppendTo(nil)
				got, reply, err := decode(wire.RequestHeader{APIKey: key, APIVersion: v}, body)
				if err != nil || reply != nil || got == nil {
					t.Fatalf("%s v%d: decode = %v, %v, %v", kmsg.NameForKey(key), v, got, reply, err)
				}
			}
		}
	}
	if served < 100 {
		t.Fatalf("only %d API versions served", served)
	}
}
