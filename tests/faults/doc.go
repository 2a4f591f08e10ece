// Package faults is the fault suite of the replicated cluster (issue 14):
// three `sluice serve` processes, every one a voter and a broker, behind
// fault proxies on loopback; producers (idempotent, plain and
// transactional, all acks=all) and consumers (a group reading
// uncommitted, a reader of committed records) run while a nemesis kills
// (-9), pauses (SIGSTOP), cuts off both ways or one way (proxy.go) and
// restarts brokers; then
// a checker (checker.go) decides from values alone whether anything
// acknowledged was lost, duplicated, moved or read when it should not
// have been.
//
// `go test ./tests/faults/` runs the short form (a handful of faults);
// `make chaos` the long one (-faults.n=100 or more), which prints the
// figures: faults injected, records acknowledged, lost, duplicated and
// the time the cluster was unavailable per fault.
package faults
