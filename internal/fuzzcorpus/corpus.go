// Package fuzzcorpus keeps the seed corpora of fuzz targets checked in, as
// docs/STYLE asks ("keep the corpus in testdata/fuzz/"): Add registers a
// seed with f.Add and, when the test runs with -update-corpus, also
// writes it to testdata/fuzz/<FuzzName>/ in Go's corpus file format, so
// that `go test` replays it and `go test -fuzz` starts from it.
//
//	go test -run '^Fuzz' ./internal/storage/ -args -update-corpus
//
// Files are named by a hash of their content: rewriting is idempotent,
// and seeds found by fuzzing (crashes Go writes there itself) stay.
package fuzzcorpus

import (
	"crypto/sha256"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update-corpus", false, "write the seeds of fuzz targets to testdata/fuzz")

// Add adds one seed (the fuzz function's arguments after *testing.T) to
// f, and writes it to f's corpus directory under -update-corpus.
func Add(f *testing.F, args ...any) {
	f.Helper()
	f.Add(args...)
	if !*update {
		return
	}
	var b strings.Builder
	b.WriteString("go test fuzz v1\n")
	for _, a := range args {
		b.WriteString(encode(a))
		b.WriteByte('\n')
	}
	sum := sha256.Sum256([]byte(b.String()))
	dir := filepath.Join("testdata", "fuzz", f.Name())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		f.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%x", sum[:8])), []byte(b.String()), 0o644); err != nil {
		f.Fatal(err)
	}
}

// encode writes one value as Go's corpus format does.
func encode(a any) string {
	switch v := a.(type) {
	case []byte:
		return fmt.Sprintf("[]byte(%q)", v)
	case string:
		return fmt.Sprintf("string(%q)", v)
	case byte:
		return fmt.Sprintf("byte(%q)", v)
	case bool, int, int8, int16, int32, int64, uint, uint16, uint32, uint64:
		return fmt.Sprintf("%T(%v)", v, v)
	}
	panic(fmt.Sprintf("fuzzcorpus: cannot encode a %T", a))
}
