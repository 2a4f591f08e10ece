//go:build !linux

package wire

import "io"

// sendfileState is unused off Linux.
type sendfileState struct{}

// writevState is unused off Linux.
type writevState struct{}

// writeZeroCopy is Linux only; elsewhere every writer is written by copy.
func (b *Body) writeZeroCopy(io.Writer, []byte) (int64, bool, error) { return 0, false, nil }

// sendfileHook is never called off Linux.
var sendfileHook func(n int)
