package batch

import (
	"bytes"
	"errors"
	"testing"

	"github.com/klauspost/compress/snappy/xerial"

	"github.com/sluice-io/sluice/internal/fuzzcorpus"
)

// FuzzDecompress feeds arbitrary payloads to each codec's decompressor
// (the input picks the codec): it returns at most the limit, or an error
// wrapping ErrCorrupt or ErrTooLarge, and allocates not much more than
// the limit; what it returns compresses and decompresses back unchanged.
// A payload already in dst is kept.
func FuzzDecompress(f *testing.F) {
	plain := bytes.Repeat([]byte("sluice record payload "), 40)
	for i, codec := range codecs {
		c, err := Compress(codec, plain, nil)
		if err != nil {
			f.Fatal(err)
		}
		fuzzcorpus.Add(f, uint8(i), c)
		fuzzcorpus.Add(f, uint8(i), c[:len(c)/2])
		empty, _ := Compress(codec, nil, nil)
		fuzzcorpus.Add(f, uint8(i), empty)
	}
	fuzzcorpus.Add(f, uint8(2), xerial.Encode(nil, plain)) // the Java client's snappy framing
	bomb, _ := Compress(CodecZstd, make([]byte, 4*fuzzMax), nil)
	fuzzcorpus.Add(f, uint8(4), bomb)
	gbomb, _ := Compress(CodecGzip, make([]byte, 4*fuzzMax), nil)
	fuzzcorpus.Add(f, uint8(1), gbomb)
	f.Fuzz(func(t *testing.T, c uint8, payload []byte) {
		codec := codecs[int(c)%len(codecs)]
		prefix := []byte("kept")
		out, err := Decompress(codec, payload, append([]byte{}, prefix...), fuzzMax)
		if !bytes.HasPrefix(out, prefix) {
			t.Fatalf("%s: dst's bytes not kept", codecName(codec))
		}
		if cap(out) > 4*fuzzMax+len(prefix) {
			t.Fatalf("%s: %d-byte payload grew dst to %d bytes", codecName(codec), len(payload), cap(out))
		}
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("%s: error wraps no sentinel: %v", codecName(codec), err)
			}
			return
		}
		got := out[len(prefix):]
		if len(got) > fuzzMax {
			t.Fatalf("%s: decompressed %d bytes past the limit %d", codecName(codec), len(got), fuzzMax)
		}
		again, err := Compress(codec, got, nil)
		if err != nil {
			t.Fatalf("%s: compress: %v", codecName(codec), err)
		}
		back, err := Decompress(codec, again, nil, fuzzMax)
		if err != nil || !bytes.Equal(back, got) {
			t.Fatalf("%s: round trip of %d bytes: %d bytes, %v", codecName(codec), len(got), len(back), err)
		}
	})
}
