package main

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/sluice-io/sluice/internal/bench"
)

// workload is one named benchmark, the same for every broker.
type workload struct {
	name string
	desc string
	spec bench.Spec // without Topic and NewClient
	// prepare, when set, runs first and is not measured: the records a
	// consume reads (same topic), or bulk data written just before an e2e
	// (topic "<topic>-bulk").
	prepare *bench.Spec
	// writeBytes, when > 0, is written to a file on the broker's file
	// system by another process (dd, no fsync) while the run goes on.
	writeBytes int64
	// writeback: when the run starts, another process writes back what
	// is dirty on the broker's file system (sync -f).
	writeback bool
}

// defaultWorkloads is -workloads' default.
const defaultWorkloads = "a,b,c,d,cb,db"

// allWorkloads are the workloads of issue 5, with records and duration
// multiplied by scale (at least 1,000 records, at least 1 s).
func allWorkloads(scale float64) []workload {
	n := func(full int64) int64 { return max(1000, int64(math.Round(float64(full)*scale))) }
	d := func(full time.Duration) time.Duration {
		return max(time.Second, time.Duration(float64(full)*scale).Round(100*time.Millisecond))
	}
	produce := func(parts int32, size int, acks bench.Acks, idem bool, records int64) bench.Spec {
		return bench.Spec{Mode: bench.ModeProduce, Partitions: parts, RecordSize: size, Acks: acks, Idempotent: idem,
			Records: records, Linger: 5 * time.Millisecond, Producers: 1}
	}
	e2e := func(acks bench.Acks, dur time.Duration) bench.Spec {
		return bench.Spec{Mode: bench.ModeE2E, Partitions: 6, RecordSize: 1024, Acks: acks,
			Rate: 20_000, Duration: dur, Linger: 0, Producers: 1}
	}
	consume := func(prep bench.Spec) bench.Spec {
		return bench.Spec{Mode: bench.ModeConsume, Records: prep.Records}
	}
	ptr := func(s bench.Spec) *bench.Spec { return &s }
	bulk := produce(6, 1024, bench.AcksLeader, false, n(2<<20)) // 2 GiB
	ws := []workload{
		{name: "a", spec: produce(1, 1024, bench.AcksLeader, false, n(1_000_000))},
		{name: "b", spec: produce(6, 1024, bench.AcksAll, true, n(1_000_000))},
		{name: "c", spec: produce(6, 100, bench.AcksLeader, false, n(2_000_000))},
		// d measures latency: no linger (Kafka 4's 5 ms default alone
		// would put the median at ~3 ms); d1 is d with acks=1.
		{name: "d", spec: e2e(bench.AcksAll, d(20*time.Second))},
		{name: "d1", spec: e2e(bench.AcksLeader, d(20*time.Second))},
		// Consume: what a, b and c wrote, read back by one client.
		{name: "ca", prepare: ptr(produce(1, 1024, bench.AcksLeader, false, n(1_000_000)))},
		{name: "cb", prepare: ptr(produce(6, 1024, bench.AcksAll, true, n(500_000)))},
		{name: "cc", prepare: ptr(produce(6, 100, bench.AcksLeader, false, n(2_000_000)))},
		// d for 10 s right after 2 GiB were written with acks=1 to
		// another topic (db), or while another process writes 2 GiB to
		// the broker's file system (dw): fsync stalls behind other
		// dirty data show up here.
		{name: "db", spec: e2e(bench.AcksAll, d(10*time.Second)), prepare: &bulk},
		{name: "dw", spec: e2e(bench.AcksAll, d(10*time.Second)), writeBytes: bulk.Records * int64(bulk.RecordSize)},
		// db, with what is still dirty written back as the run starts:
		// what the kernel does 30 s after the bulk (or at once above
		// dirty_background_ratio, on a machine with less memory).
		{name: "dk", spec: e2e(bench.AcksAll, d(10*time.Second)), prepare: &bulk, writeback: true},
	}
	for i := range ws {
		w := &ws[i]
		if w.spec.Mode == "" {
			w.spec = consume(*w.prepare)
		}
		w.desc = describe(w)
	}
	return ws
}

func describe(w *workload) string {
	s := w.spec
	if s.Mode == bench.ModeConsume {
		return fmt.Sprintf("consume %d records, one client, of: %s", s.Records, describeSpec(*w.prepare))
	}
	d := describeSpec(s)
	switch {
	case w.prepare != nil:
		d += fmt.Sprintf(", right after %d MiB were written to another topic: %s",
			w.prepare.Records*int64(w.prepare.RecordSize)>>20, describeSpec(*w.prepare))
		if w.writeback {
			d += ", and with what is dirty on the broker's file system written back as it starts (sync -f)"
		}
	case w.writeBytes > 0:
		d += fmt.Sprintf(", while another process writes %d MiB to the broker's file system", w.writeBytes>>20)
	}
	return d
}

func describeSpec(s bench.Spec) string {
	idem := ""
	if s.Idempotent {
		idem = ", idempotent"
	}
	what := fmt.Sprintf("%d records", s.Records)
	if s.Mode == bench.ModeE2E {
		what = fmt.Sprintf("%.0f records/s for %v", s.Rate, s.Duration)
	}
	return fmt.Sprintf("%s, %d partition(s), %d B records, acks=%v%s, %s", s.Mode, s.Partitions, s.RecordSize, s.Acks, idem, what)
}

// pickWorkloads returns the workloads named in list (comma-separated).
func pickWorkloads(all []workload, list string) ([]workload, error) {
	var out []workload
	for name := range strings.SplitSeq(list, ",") {
		name = strings.TrimSpace(name)
		found := false
		for _, w := range all {
			if w.name == name {
				out, found = append(out, w), true
			}
		}
		if !found {
			return nil, fmt.Errorf("-workloads: unknown workload %q (have a, b, c, d, d1, ca, cb, cc, db, dw, dk)", name)
		}
	}
	return out, nil
}

// skipReason says why a broker cannot run a workload, "" when it can.
func skipReason(kind string, w workload) string {
	if kind == kindCeiling && w.spec.Mode == bench.ModeE2E {
		return "the ceiling (kfake BlackholeProduce) stores nothing, so there is nothing to consume"
	}
	return ""
}
