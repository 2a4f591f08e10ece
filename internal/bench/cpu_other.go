//go:build !unix

package bench

import "time"

func osProcessCPU() (time.Duration, bool) { return 0, false }
