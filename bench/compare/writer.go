package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// other is another process working on the broker's file system during a
// run: a writer of a large file (dd from /dev/zero, through the page
// cache, no fsync: the dirty data an fsync of the broker's log may have to
// wait behind), or a writeback of everything dirty there (sync -f, what
// the kernel does after dirty_expire_centisecs or above
// dirty_background_ratio).
type other struct {
	what   string
	cmd    *exec.Cmd
	remove string // a file to remove afterwards
}

func startWriter(dir string, bytes int64) (*other, error) {
	path := filepath.Join(dir, "other-writer.bin")
	return startOther("the other writer (dd)", path,
		exec.Command("dd", "if=/dev/zero", "of="+path, "bs=1M", fmt.Sprintf("count=%d", max(1, bytes>>20))))
}

func startWriteback(dir string) (*other, error) {
	return startOther("the writeback (sync -f)", "", exec.Command("sync", "-f", dir))
}

func startOther(what, remove string, cmd *exec.Cmd) (*other, error) {
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", what, err)
	}
	return &other{what: what, cmd: cmd, remove: remove}, nil
}

// wait waits for the process to finish and removes its file.
func (o *other) wait() error {
	err := o.cmd.Wait()
	if err != nil {
		err = fmt.Errorf("%s: %w", o.what, err)
	}
	if o.remove != "" {
		err = errors.Join(err, os.Remove(o.remove))
	}
	return err
}
