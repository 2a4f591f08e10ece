// Package sysio holds file reads and writes that skip the Go scheduler's
// system call bookkeeping when the kernel should not sleep.
//
// An ordinary system call tells the runtime it may block: on entry the
// runtime wakes its sysmon thread if it is idle, so that a blocked call's
// scheduler slot can be handed to another thread. On a lightly loaded
// broker that wake-up, one per call, costs more than a read from the page
// cache. ReadAt asks the kernel for a read that fails rather than wait
// (preadv2 with RWF_NOWAIT) and makes it as a raw system call; only when
// the data is not cached does it fall back to an ordinary pread. WriteAt
// makes a small append into the page cache a raw pwrite, which the kernel
// cannot promise, so it watches the time each takes and turns itself off
// for a while after a slow one.
package sysio
