package conn

import (
	"testing"

	"github.com/sluice-io/sluice/internal/kafka/handler"
	"github.com/sluice-io/sluice/internal/kafka/wire"
)

// FuzzDecodeRequest feeds arbitrary frames (what follows the size prefix)
// to the request header parser and the body decoder: they must return an
// error or a request, never panic. The seed corpus in
// testdata/fuzz/FuzzDecodeRequest holds a valid frame of every served API
// at several versions (regenerate with go run ./testdata/gen).
func FuzzDecodeRequest(f *testing.F) {
	f.Fuzz(func(t *testing.T, frame []byte) {
		hdr, body, err := wire.ParseRequestHeader(frame, handler.Flexible)
		if err != nil {
			return
		}
		req, reply, err := decode(hdr, body)
		if err == nil && req == nil && reply == nil {
			t.Fatal("decode returned neither a request, a reply nor an error")
		}
	})
}
