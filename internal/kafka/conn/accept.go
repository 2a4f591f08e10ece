package conn

import (
	"errors"
	"syscall"
	"time"
)

// Accept backoff bounds: as net/http's Server, from 5 ms doubling to 1 s.
const (
	acceptBackoffMin = 5 * time.Millisecond
	acceptBackoffMax = time.Second
)

// acceptBackoff returns how long Serve waits before accepting again after
// err, given the previous wait (0 after a success), and false when err is
// not one a later Accept may not repeat. The process out of descriptors
// (EMFILE, ENFILE) or of buffers must not end the listener: the broker
// would stop answering for good (issue 13, defect 6); the connections
// waiting in the backlog are accepted once descriptors free up.
func acceptBackoff(err error, prev time.Duration) (time.Duration, bool) {
	if !errors.Is(err, syscall.EMFILE) && !errors.Is(err, syscall.ENFILE) &&
		!errors.Is(err, syscall.ENOBUFS) && !errors.Is(err, syscall.ENOMEM) {
		return 0, false
	}
	return min(max(2*prev, acceptBackoffMin), acceptBackoffMax), true
}
