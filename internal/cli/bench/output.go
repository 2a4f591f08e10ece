package bench

import (
	"fmt"
	"io"
	"strings"

	engine "github.com/sluice-io/sluice/internal/bench"
)

// printResult writes the human-readable result.
func printResult(w io.Writer, r *engine.Result) error {
	var b strings.Builder
	what := "acknowledged"
	if r.Mode != engine.ModeProduce {
		what = "consumed"
	}
	fmt.Fprintf(&b, "%s: %d records %s in %.2f s: %.0f records/s, %.2f MB/s\n",
		r.Mode, r.Records, what, r.Seconds, r.RecordsPerSec, r.MBPerSec)
	if r.Mode != engine.ModeConsume {
		idem := "not idempotent"
		if r.Idempotent {
			idem = "idempotent"
		}
		rate := "unlimited rate"
		if r.TargetRate > 0 {
			rate = fmt.Sprintf("target %.0f records/s", r.TargetRate)
		}
		fmt.Fprintf(&b, "  topic %s (%d partitions), %d-byte records, acks=%s, %s, compression %s, %d producer(s), %s\n",
			r.Topic, r.Partitions, r.RecordSize, r.Acks, idem, r.Compression, r.Producers, rate)
		fmt.Fprintf(&b, "  sent %d, errors %d\n", r.Sent, r.Errors)
	} else {
		fmt.Fprintf(&b, "  topic %s (%d partitions)\n", r.Topic, r.Partitions)
	}
	switch r.Mode {
	case engine.ModeProduce:
		writeLatency(&b, "send->ack latency", r.Latency)
	case engine.ModeE2E:
		writeLatency(&b, "send->consume latency", r.Latency)
		writeLatency(&b, "send->ack latency", r.AckLatency)
	}
	if r.ClientCPUSeconds > 0 {
		fmt.Fprintf(&b, "  client CPU %.2f s: %.3f us/record\n", r.ClientCPUSeconds, r.ClientCPUPerRecordUs())
	}
	if r.FetchResponses > 0 {
		fmt.Fprintf(&b, "  fetch responses %d: %.2f per MB, %.0f KiB each\n", r.FetchResponses, r.FetchesPerMiB(), r.KiBPerFetch())
	}
	if i := r.Integrity; i != nil {
		verdict := "OK"
		if !i.OK() {
			verdict = "FAILED"
		}
		fmt.Fprintf(&b, "  integrity %s: %d acknowledged, %d received, %d lost, %d duplicated, %d reordered, %d misrouted, %d foreign\n",
			verdict, i.Expected, i.Received, i.Lost, i.Duplicated, i.Reordered, i.Misrouted, i.Foreign)
	}
	if r.FirstError != "" {
		fmt.Fprintf(&b, "  first error: %s\n", r.FirstError)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "  note: %s\n", n)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeLatency(b *strings.Builder, name string, l *engine.Latency) {
	if l == nil {
		fmt.Fprintf(b, "  %s: no samples\n", name)
		return
	}
	fmt.Fprintf(b, "  %s ms: p50 %.2f  p99 %.2f  p99.9 %.2f  max %.2f  mean %.2f\n",
		name, l.P50Ms, l.P99Ms, l.P999Ms, l.MaxMs, l.MeanMs)
}
