package batch

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/klauspost/compress/snappy/xerial"
)

func codecInputs() map[string][]byte {
	rnd := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 300<<10)
	for i := range random {
		random[i] = byte(rnd.Uint32())
	}
	return map[string][]byte{
		"empty":        {},
		"one byte":     {7},
		"text":         bytes.Repeat([]byte("sluice is kafka in one binary. "), 100),
		"random 300K":  random,
		"zeros 1M":     make([]byte, 1<<20),
		"mixed blocks": append(bytes.Repeat([]byte{1, 2, 3}, 50_000), random[:70_000]...),
	}
}

func TestCodecRoundTrip(t *testing.T) {
	for name, in := range codecInputs() {
		for _, codec := range codecs {
			t.Run(codecName(codec)+"/"+name, func(t *testing.T) {
				prefix := []byte("prefix")
				enc, err := Compress(codec, in, append([]byte{}, prefix...))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.HasPrefix(enc, prefix) {
					t.Fatal("Compress clobbered dst")
				}
				dec, err := Decompress(codec, enc[len(prefix):], append([]byte{}, prefix...), len(in))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(dec[len(prefix):], in) || !bytes.HasPrefix(dec, prefix) {
					t.Fatalf("round trip: got %d bytes, want %d", len(dec)-len(prefix), len(in))
				}
			})
		}
	}
}

// TestDecompressLimit: a payload one byte over the limit fails with
// ErrTooLarge, for each codec, including a 64 MiB zip bomb.
func TestDecompressLimit(t *testing.T) {
	bomb := make([]byte, 64<<20)
	for _, codec := range codecs {
		for _, size := range []int{1000, 1 << 20} {
			in := bytes.Repeat([]byte("x"), size)
			enc, _ := Compress(codec, in, nil)
			if _, err := Decompress(codec, enc, nil, size); err != nil {
				t.Errorf("%s: at the limit: %v", codecName(codec), err)
			}
			if _, err := Decompress(codec, enc, nil, size-1); !errors.Is(err, ErrTooLarge) {
				t.Errorf("%s: %d bytes over a limit of %d: %v", codecName(codec), size, size-1, err)
			}
		}
		enc, _ := Compress(codec, bomb, nil)
		out, err := Decompress(codec, enc, nil, 1<<20)
		if !errors.Is(err, ErrTooLarge) {
			t.Errorf("%s bomb: %v", codecName(codec), err)
		}
		if cap(out) > 16<<20 {
			t.Errorf("%s bomb: buffer grew to %d bytes", codecName(codec), cap(out))
		}
	}
}

func TestDecompressXerial(t *testing.T) {
	for name, in := range codecInputs() {
		t.Run(name, func(t *testing.T) {
			enc := xerial.Encode(nil, in)
			dec, err := Decompress(CodecSnappy, enc, nil, len(in))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(dec, in) {
				t.Fatalf("got %d bytes, want %d", len(dec), len(in))
			}
			if len(in) > 0 {
				if _, err := Decompress(CodecSnappy, enc, nil, len(in)-1); !errors.Is(err, ErrTooLarge) {
					t.Fatalf("over the limit: %v", err)
				}
			}
		})
	}
	bad := [][]byte{
		append(append([]byte{}, xerialMagic...), 0, 0, 0, 1, 0, 0, 0, 1, 0, 0),          // short block length
		append(append([]byte{}, xerialMagic...), 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 9, 1), // block past end
	}
	for i, b := range bad {
		if _, err := Decompress(CodecSnappy, b, nil, 1<<20); !errors.Is(err, ErrCorrupt) {
			t.Errorf("bad xerial %d: %v", i, err)
		}
	}
}

func TestDecompressErrors(t *testing.T) {
	garbage := []byte("this is not compressed at all, not even a little")
	for _, codec := range codecs[1:] {
		if _, err := Decompress(codec, garbage, nil, 1<<20); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s garbage: %v", codecName(codec), err)
		}
		enc, _ := Compress(codec, bytes.Repeat([]byte("abc"), 1000), nil)
		if _, err := Decompress(codec, enc[:len(enc)/2], nil, 1<<20); err == nil {
			t.Errorf("%s truncated: no error", codecName(codec))
		}
	}
	for _, codec := range []int{-1, 5, 7} {
		if _, err := Decompress(codec, garbage, nil, 100); !errors.Is(err, ErrInvalid) {
			t.Errorf("codec %d: %v", codec, err)
		}
		if _, err := Compress(codec, garbage, nil); !errors.Is(err, ErrInvalid) {
			t.Errorf("codec %d: %v", codec, err)
		}
	}
}

func TestCodecConcurrent(t *testing.T) {
	in := bytes.Repeat([]byte("concurrent use of pooled codecs "), 2000)
	done := make(chan error)
	for g := range 4 {
		go func() {
			var err error
			for i := range 20 {
				codec := codecs[(g+i)%len(codecs)]
				var enc, dec []byte
				if enc, err = Compress(codec, in, nil); err != nil {
					break
				}
				if dec, err = Decompress(codec, enc, nil, len(in)); err != nil {
					break
				}
				if !bytes.Equal(dec, in) {
					err = errors.New("mismatch")
					break
				}
			}
			done <- err
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
