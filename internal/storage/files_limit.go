package storage

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Running out of descriptors (EMFILE, ENFILE) or of memory maps (ENOMEM
// from mmap: vm.max_map_count) is a transient state of the process, not a
// fault of one partition. Every open and map of this package goes through
// openFile and mmapFile: on exhaustion they ask every janitor to close
// the idle file sets at once and try once more; if that fails too, the
// error wraps ErrResourceExhausted, which fails the request at hand and
// never the log (the callers change nothing before their opens, or undo
// what they changed).

// faultHook, when set, runs before each open and map with the operation
// ("open", "mmap") and path; an error it returns is the call's (tests
// inject EMFILE through it).
var faultHook atomic.Pointer[func(op, path string) error]

// exhausted reports whether err is the process out of descriptors or maps.
func exhausted(err error) bool {
	return errors.Is(err, unix.EMFILE) || errors.Is(err, unix.ENFILE) || errors.Is(err, unix.ENOMEM)
}

// openFile is os.OpenFile with relief on exhaustion.
func openFile(name string, flag int, perm os.FileMode) (*os.File, error) {
	f, err := openOnce(name, flag, perm)
	if err != nil && exhausted(err) {
		relieveAll()
		f, err = openOnce(name, flag, perm)
	}
	if err != nil && exhausted(err) {
		return nil, fmt.Errorf("%w: %w", ErrResourceExhausted, err)
	}
	return f, err
}

func openOnce(name string, flag int, perm os.FileMode) (*os.File, error) {
	if h := faultHook.Load(); h != nil {
		if err := (*h)("open", name); err != nil {
			return nil, &os.PathError{Op: "open", Path: name, Err: err}
		}
	}
	return os.OpenFile(name, flag, perm)
}

// mmapFile is unix.Mmap of f with relief on exhaustion.
func mmapFile(f *os.File, off int64, length, prot, flags int) ([]byte, error) {
	b, err := mmapOnce(f, off, length, prot, flags)
	if err != nil && exhausted(err) {
		relieveAll()
		b, err = mmapOnce(f, off, length, prot, flags)
	}
	if err != nil {
		err = fmt.Errorf("mmap %s: %w", f.Name(), err)
		if exhausted(err) {
			err = fmt.Errorf("%w: %w", ErrResourceExhausted, err)
		}
	}
	return b, err
}

func mmapOnce(f *os.File, off int64, length, prot, flags int) ([]byte, error) {
	if h := faultHook.Load(); h != nil {
		if err := (*h)("mmap", f.Name()); err != nil {
			return nil, err
		}
	}
	return unix.Mmap(int(f.Fd()), off, length, prot, flags)
}

// readFile is os.ReadFile through openFile.
func readFile(name string) ([]byte, error) {
	f, err := openFile(name, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// writeFile is os.WriteFile through openFile.
func writeFile(name string, data []byte, perm os.FileMode) error {
	f, err := openFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
