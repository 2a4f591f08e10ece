package storage

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/sluice-io/sluice/internal/model"
)

// completeSwaps finishes the swaps a crash interrupted, before Open looks
// at the segments (Kafka's LogLoader does the same). A <base>.log.swap was
// written and synced whole before it got that name, so the swap was
// committed: it replaces every segment whose base lies in [base, next),
// next being the offset after its last batch. Those segments' files and
// base's indexes are removed, the directory is synced, the swap's
// transaction index and then the swap itself take their final names; its
// offset and time indexes are then rebuilt by Open's scan. A crash before
// the swap was committed leaves only *.cleaned files, which Open removes:
// the swap is rolled back. Offset and time index *.swap files are removed
// with the other leftovers.
//
// The transaction index cannot be rebuilt from the segment, so it is
// moved, never rebuilt: while <base>.txnindex.swap exists (the cleaner
// writes one for every cleaned segment, empty or not) any
// <base>.txnindex is the replaced segment's and is replaced by it; once
// it is gone, the cleaner or an earlier recovery installed it, and
// <base>.txnindex, if any, is the new segment's.
func completeSwaps(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("list %s: %w", dir, err)
	}
	var swaps, logs []model.Offset
	for _, e := range entries {
		if stem, ok := strings.CutSuffix(e.Name(), logSuffix+swapSuffix); ok {
			if base, ok := parseSegmentStem(stem); ok {
				swaps = append(swaps, base)
			}
		} else if stem, ok := strings.CutSuffix(e.Name(), logSuffix); ok {
			if base, ok := parseSegmentStem(stem); ok {
				logs = append(logs, base)
			}
		}
	}
	for _, base := range swaps {
		if err := completeSwap(dir, base, logs); err != nil {
			return fmt.Errorf("complete swap of segment %d: %w", base, err)
		}
	}
	return nil
}

// completeSwap installs one <base>.log.swap over the segments it replaces.
func completeSwap(dir string, base model.Offset, logs []model.Offset) error {
	swap := segmentName(dir, base, logSuffix+swapSuffix)
	next, whole, err := swapNextOffset(swap, base)
	if err != nil {
		return err
	}
	if !whole {
		// Not a file the cleaner committed (those are synced whole before
		// the rename): leave the segments alone; cleanDir removes it.
		return nil
	}
	for _, b := range logs {
		if b > base && b < next {
			for _, suf := range []string{logSuffix, indexSuffix, timeIndexSuffix, txnIndexSuffix} {
				if err := removeIfExists(segmentName(dir, b, suf)); err != nil {
					return err
				}
			}
		}
	}
	for _, suf := range []string{logSuffix, indexSuffix, timeIndexSuffix} {
		if err := removeIfExists(segmentName(dir, base, suf)); err != nil {
			return err
		}
	}
	// The removals must be durable before the swap takes the name: the
	// other way round a crash could leave overlapping segments.
	if err := syncDir(dir); err != nil {
		return err
	}
	txnSwap := segmentName(dir, base, txnIndexSuffix+swapSuffix)
	if fi, err := os.Stat(txnSwap); err == nil {
		if err := installTxnIndexSwap(dir, base, fi.Size() == 0); err != nil {
			return err
		}
	} else if !os.IsNotExist(err) {
		return err
	}
	if err := os.Rename(swap, segmentName(dir, base, logSuffix)); err != nil {
		return err
	}
	return syncDir(dir)
}

// removeIfExists removes path; a missing file is no error.
func removeIfExists(path string) error {
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		return err
	}
	return nil
}

// swapNextOffset walks the batch headers of a swap file and returns the
// offset after its last batch (base when it holds none); whole is false
// when the headers do not tile the file exactly.
func swapNextOffset(path string, base model.Offset) (next model.Offset, whole bool, err error) {
	f, err := openFile(path, os.O_RDONLY, 0)
	if err != nil {
		return 0, false, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, false, err
	}
	r := newHeaderReader(f, base, fi.Size())
	defer r.done()
	next = base
	for pos := int64(0); ; {
		b, err := r.at(pos)
		if err == io.EOF {
			return next, true, nil
		}
		if err != nil || b.base < next || b.last < b.base {
			return next, false, nil
		}
		next, pos = b.last+1, pos+b.size
	}
}

// parseSegmentStem parses a 20-digit base offset file name stem.
func parseSegmentStem(stem string) (model.Offset, bool) {
	base, err := strconv.ParseInt(stem, 10, 64)
	if err != nil || base < 0 || len(stem) != 20 {
		return 0, false
	}
	return model.Offset(base), true
}
