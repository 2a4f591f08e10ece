package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// writer is another process writing a large file to the broker's file
// system during a run (dd from /dev/zero, through the page cache, no
// fsync): the dirty data an fsync of the broker's log may have to wait
// behind.
type writer struct {
	cmd  *exec.Cmd
	path string
}

func startWriter(dir string, bytes int64) (*writer, error) {
	path := filepath.Join(dir, "other-writer.bin")
	cmd := exec.Command("dd", "if=/dev/zero", "of="+path, "bs=1M", fmt.Sprintf("count=%d", max(1, bytes>>20)))
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the other writer (dd): %w", err)
	}
	return &writer{cmd: cmd, path: path}, nil
}

// wait waits for the writer to finish and removes its file.
func (w *writer) wait() error {
	err := w.cmd.Wait()
	if err != nil {
		err = fmt.Errorf("the other writer (dd): %w", err)
	}
	return errors.Join(err, os.Remove(w.path))
}
