// Package fuzzcorpus keeps the seed corpora of fuzz targets checked in, as
// docs/STYLE asks ("keep the corpus in testdata/fuzz/"): Add registers a
// seed with f.Add and, when the environment has UPDATE_FUZZ_CORPUS=1,
// also writes it to testdata/fuzz/<FuzzName>/ in Go's corpus file
// format, so that `go test` replays it and `go test -fuzz` starts from it.
//
//	UPDATE_FUZZ_CORPUS=1 go test -run '^Fuzz' ./internal/storage/
//
// (An environment variable, not a flag: a package may have a flag of that
// name already.)
// Files are named by a hash of their content: rewriting is idempotent,
// and seeds found by fuzzing (crashes Go writes there itself) stay.
package fuzzcorpus

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = os.Getenv("UPDATE_FUZZ_CORPUS") == "1"

// Add adds one seed (the fuzz function's arguments after *testing.T) to
// f, and writes it to f's corpus directory under UPDATE_FUZZ_CORPUS=1.
func Add(f *testing.F, args ...any) {
	f.Helper()
	f.Add(args...)
	if !update {
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
