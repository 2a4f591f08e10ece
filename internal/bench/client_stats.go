package bench

import (
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-io/sluice/internal/procs"
)

// fetchStats counts the fetch responses a consuming client reads: the
// shape of what a broker sends (responses per MiB, bytes per response)
// drives the client's cost per record. A kgo hook; safe for concurrent
// use.
type fetchStats struct {
	responses atomic.Int64
	bytes     atomic.Int64
}

var _ kgo.HookBrokerRead = (*fetchStats)(nil)

// OnBrokerRead counts every successfully read fetch response.
func (f *fetchStats) OnBrokerRead(_ kgo.BrokerMetadata, key int16, n int, _, _ time.Duration, err error) {
	if key == int16(kmsg.Fetch) && err == nil {
		f.responses.Add(1)
		f.bytes.Add(int64(n))
	}
}

// fill sets the Result's fetch figures.
func (f *fetchStats) fill(r *Result) {
	r.FetchResponses, r.FetchBytes = f.responses.Load(), f.bytes.Load()
}

// clientCPU is the process's CPU time when a run started: in `sluice
// bench` and bench/compare the process is the load generator, its clients
// and nothing else of weight (brokers run in other processes).
type clientCPU time.Duration

func startClientCPU() clientCPU { return clientCPU(procs.CPUTime()) }

// fill sets ClientCPUSeconds to the CPU time used since the start.
func (c clientCPU) fill(r *Result) {
	if r != nil {
		r.ClientCPUSeconds = (procs.CPUTime() - time.Duration(c)).Seconds()
	}
}
