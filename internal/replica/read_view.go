package replica

import (
	"runtime"
	"sync/atomic"

	"github.com/sluice-io/sluice/internal/model"
)

// readView is what readers of a partition see: the high watermark and the
// last stable offset, published together. Appends publish it under the
// partition's append lock once everything a reader needs below the new
// offsets is in place (the batch in the log, its transaction registered,
// an aborted transaction's index entry written), so a reader that loads
// the view and then reads the log and the transaction index sees a
// consistent state (issue 13, defect 1).
//
// It is a sequence lock: the writer makes seq odd, stores both offsets,
// and makes seq even again; a reader retries while seq is odd or moved.
// Go's atomics are sequentially consistent, which is all a sequence lock
// needs. Loads do not allocate and never block the writer.
type readView struct {
	seq     atomic.Uint64
	hw, lso atomic.Int64
}

// load returns a consistent (high watermark, last stable offset).
// Invariant: lso <= hw.
func (v *readView) load() (hw, lso model.Offset) {
	for spins := 0; ; spins++ {
		s := v.seq.Load()
		if s&1 == 0 {
			hw, lso := v.hw.Load(), v.lso.Load()
			if v.seq.Load() == s {
				return model.Offset(hw), model.Offset(lso)
			}
		}
		if spins > 16 {
			runtime.Gosched() // the writer was preempted mid-store
		}
	}
}

// store publishes a new view. The caller serializes stores (the append
// lock).
func (v *readView) store(hw, lso model.Offset) {
	v.seq.Add(1)
	v.hw.Store(int64(hw))
	v.lso.Store(int64(min(lso, hw)))
	v.seq.Add(1)
}
