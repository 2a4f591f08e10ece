//go:build race

package replica

// raceEnabled: the race detector makes sync.Pool drop items, so pooled
// buffers show up as allocations.
const raceEnabled = true
