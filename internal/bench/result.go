package bench

import (
	"errors"
	"fmt"
	"time"
)

// mib is the MB of MB/s: 2^20 bytes, as Kafka's perf-test tools count it.
const mib = 1 << 20

// Result is the outcome of a run, as printed by `sluice bench --json`:
// plain data, safe to read from any goroutine once Run has returned.
type Result struct {
	Mode        Mode    `json:"mode"`
	Topic       string  `json:"topic"`
	Partitions  int32   `json:"partitions"`
	Producers   int     `json:"producers,omitempty"`
	RecordSize  int     `json:"record_size,omitempty"`
	Acks        string  `json:"acks,omitempty"`
	Idempotent  bool    `json:"idempotent"`
	Compression string  `json:"compression,omitempty"`
	TargetRate  float64 `json:"target_rate,omitempty"`
	// Records counts records acknowledged (produce) or consumed (consume,
	// e2e: distinct records of this run); Bytes their value bytes.
	Records int64 `json:"records"`
	Bytes   int64 `json:"bytes"`
	// Sent counts records handed to the client (produce, e2e); Errors
	// those that failed.
	Sent          int64   `json:"sent,omitempty"`
	Errors        int64   `json:"errors"`
	FirstError    string  `json:"first_error,omitempty"`
	Seconds       float64 `json:"seconds"`
	RecordsPerSec float64 `json:"records_per_sec"`
	MBPerSec      float64 `json:"mb_per_sec"`
	// ClientCPUSeconds is the CPU time (user + system) the benchmark's own
	// process used during the run: the client side's cost.
	ClientCPUSeconds float64 `json:"client_cpu_seconds"`
	// FetchResponses and FetchBytes count the fetch responses the
	// consuming client read and their size (consume, e2e).
	FetchResponses int64 `json:"fetch_responses,omitempty"`
	FetchBytes     int64 `json:"fetch_bytes,omitempty"`
	// Latency is send-to-ack (produce) or send-to-consume (e2e).
	Latency *Latency `json:"latency,omitempty"`
	// AckLatency is send-to-ack during an e2e run.
	AckLatency *Latency   `json:"ack_latency,omitempty"`
	Integrity  *Integrity `json:"integrity,omitempty"`
	// Notes say where the run differed from what was asked (a fallback,
	// an existing topic's partition count, an interruption).
	Notes []string `json:"notes,omitempty"`
}

// Latency is a latency distribution in milliseconds.
type Latency struct {
	Count  uint64  `json:"count"`
	MeanMs float64 `json:"mean_ms"`
	P50Ms  float64 `json:"p50_ms"`
	P99Ms  float64 `json:"p99_ms"`
	P999Ms float64 `json:"p999_ms"`
	MaxMs  float64 `json:"max_ms"`
}

func ms(ns int64) float64 { return float64(ns) / float64(time.Millisecond) }

// latencyOf summarises a histogram of nanoseconds; nil when empty.
func latencyOf(h *Histogram) *Latency {
	if h.Count() == 0 {
		return nil
	}
	return &Latency{
		Count:  h.Count(),
		MeanMs: h.Mean() / float64(time.Millisecond),
		P50Ms:  ms(h.Quantile(0.5)),
		P99Ms:  ms(h.Quantile(0.99)),
		P999Ms: ms(h.Quantile(0.999)),
		MaxMs:  ms(h.Max()),
	}
}

// setThroughput fills Seconds and the rates from Records, Bytes and the
// elapsed time.
func (r *Result) setThroughput(elapsed time.Duration) {
	r.Seconds = elapsed.Seconds()
	if r.Seconds > 0 {
		r.RecordsPerSec = float64(r.Records) / r.Seconds
		r.MBPerSec = float64(r.Bytes) / mib / r.Seconds
	}
}

// ClientCPUPerRecordUs is the client's CPU microseconds per record; 0
// without records.
func (r *Result) ClientCPUPerRecordUs() float64 {
	if r.Records == 0 {
		return 0
	}
	return r.ClientCPUSeconds * 1e6 / float64(r.Records)
}

// FetchesPerMiB is fetch responses per MiB of record values read; 0
// without fetches.
func (r *Result) FetchesPerMiB() float64 {
	if r.FetchResponses == 0 || r.Bytes == 0 {
		return 0
	}
	return float64(r.FetchResponses) / (float64(r.Bytes) / mib)
}

// KiBPerFetch is the mean size of a fetch response in KiB; 0 without
// fetches.
func (r *Result) KiBPerFetch() float64 {
	if r.FetchResponses == 0 {
		return 0
	}
	return float64(r.FetchBytes) / float64(r.FetchResponses) / 1024
}

// Err is nil for a clean run, else ErrProduceFailed and/or ErrIntegrity
// with counts.
func (r *Result) Err() error {
	var errs []error
	if r.Errors > 0 {
		errs = append(errs, fmt.Errorf("%w: %d of %d (first: %s)", ErrProduceFailed, r.Errors, r.Sent, r.FirstError))
	}
	if i := r.Integrity; i != nil && !i.OK() {
		errs = append(errs, fmt.Errorf("%w: %d lost, %d duplicated, %d reordered, %d misrouted of %d acknowledged",
			ErrIntegrity, i.Lost, i.Duplicated, i.Reordered, i.Misrouted, i.Expected))
	}
	return errors.Join(errs...)
}
