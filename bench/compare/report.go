package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/sluice-io/sluice/internal/bench"
)

const gib = 1 << 30

// stat is the median and range of one figure over the rounds.
type stat struct {
	med, min, max float64
	n             int
}

func statOf(vs []float64) stat {
	if len(vs) == 0 {
		return stat{}
	}
	s := slices.Sorted(slices.Values(vs))
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return stat{med: m, min: s[0], max: s[len(s)-1], n: len(s)}
}

// format prints "median [min..max]" (just the value for one sample).
func (s stat) format(prec int) string {
	if s.n == 0 {
		return "-"
	}
	if s.n == 1 || s.min == s.max {
		return fmt.Sprintf("%.*f", prec, s.med)
	}
	return fmt.Sprintf("%.*f [%.*f..%.*f]", prec, s.med, prec, s.min, prec, s.max)
}

// figures are the per-sample values the report shows, by column.
var figures = []struct {
	head string
	prec int
	get  func(s sample) (float64, bool)
}{
	{"RECORDS/S", 0, func(s sample) (float64, bool) { return s.Result.RecordsPerSec, true }},
	{"MB/S", 1, func(s sample) (float64, bool) { return s.Result.MBPerSec, true }},
	{"P50 ms", 2, lat(func(l *bench.Latency) float64 { return l.P50Ms })},
	{"P99 ms", 2, lat(func(l *bench.Latency) float64 { return l.P99Ms })},
	{"P99.9 ms", 2, lat(func(l *bench.Latency) float64 { return l.P999Ms })},
	{"MAX ms", 2, lat(func(l *bench.Latency) float64 { return l.MaxMs })},
	{"CPU s", 2, func(s sample) (float64, bool) { return s.CPUSeconds, true }},
	{"CPU s/GB", 2, func(s sample) (float64, bool) {
		return s.CPUSeconds / (float64(s.Result.Bytes) / gib), s.Result.Bytes > 0
	}},
	{"CPU us/rec", 3, func(s sample) (float64, bool) {
		return s.CPUSeconds * 1e6 / float64(s.Result.Records), s.Result.Records > 0
	}},
	{"CLIENT us/rec", 3, func(s sample) (float64, bool) {
		return s.Result.ClientCPUPerRecordUs(), s.Result.ClientCPUSeconds > 0
	}},
	{"FETCH/MB", 2, func(s sample) (float64, bool) {
		return s.Result.FetchesPerMiB(), s.Result.FetchResponses > 0
	}},
	{"KiB/FETCH", 0, func(s sample) (float64, bool) {
		return s.Result.KiBPerFetch(), s.Result.FetchResponses > 0
	}},
}

func lat(f func(*bench.Latency) float64) func(sample) (float64, bool) {
	return func(s sample) (float64, bool) {
		if s.Result.Latency == nil {
			return 0, false
		}
		return f(s.Result.Latency), true
	}
}

// column gathers figure i of the usable samples of (workload, broker).
func (rs *results) column(w, kind string, i int) stat {
	var vs []float64
	for _, s := range rs.Samples {
		if s.Workload != w || s.Broker != kind || s.Result == nil || s.Result.Records == 0 {
			continue
		}
		if v, ok := figures[i].get(s); ok {
			vs = append(vs, v)
		}
	}
	return statOf(vs)
}

// report prints a table per workload, the ratios, the notes, and the
// brokers' start-up figures.
func (rs *results) report(w io.Writer, ws []workload, kinds []string) {
	for _, wl := range ws {
		fmt.Fprintf(w, "workload %s: %s\n", wl.name, wl.desc)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		heads := []string{"BROKER"}
		for _, f := range figures {
			heads = append(heads, f.head)
		}
		fmt.Fprintln(tw, strings.Join(heads, "\t"))
		for _, k := range kinds {
			cells := []string{k}
			for i, f := range figures {
				cells = append(cells, rs.column(wl.name, k, i).format(f.prec))
			}
			fmt.Fprintln(tw, strings.Join(cells, "\t"))
		}
		tw.Flush()
		rs.ratios(w, wl.name, kinds)
		rs.notes(w, wl.name, kinds)
		fmt.Fprintln(w)
	}
	rs.brokerTable(w, kinds)
}

// ratios prints sluice/kfake and sluice/ceiling on the medians.
func (rs *results) ratios(w io.Writer, wl string, kinds []string) {
	if !slices.Contains(kinds, kindSluice) {
		return
	}
	cols := []struct {
		name string
		i    int
	}{{"records/s", 0}, {"p50", 2}, {"p99", 3}, {"p99.9", 4}, {"CPU s/GB", 7}, {"client us/rec", 9}}
	for _, peer := range []string{kindKfake, kindCeiling} {
		if !slices.Contains(kinds, peer) {
			continue
		}
		var parts []string
		for _, c := range cols {
			a, b := rs.column(wl, kindSluice, c.i), rs.column(wl, peer, c.i)
			if a.n > 0 && b.n > 0 && b.med > 0 {
				parts = append(parts, fmt.Sprintf("%s %.2fx", c.name, a.med/b.med))
			}
		}
		if len(parts) > 0 {
			fmt.Fprintf(w, "  sluice/%s: %s\n", peer, strings.Join(parts, ", "))
		}
	}
}

// notes prints, once each, every note, skip and error of the workload.
func (rs *results) notes(w io.Writer, wl string, kinds []string) {
	for _, k := range kinds {
		seen := map[string][]int{}
		var order []string
		add := func(text string, round int) {
			if _, ok := seen[text]; !ok {
				order = append(order, text)
			}
			seen[text] = append(seen[text], round)
		}
		for _, s := range rs.Samples {
			if s.Workload != wl || s.Broker != k {
				continue
			}
			switch {
			case s.Skipped != "":
				add("skipped: "+s.Skipped, s.Round)
			case s.Error != "":
				add("ERROR: "+s.Error, s.Round)
			}
			if s.Result != nil {
				for _, n := range s.Result.Notes {
					add("note: "+n, s.Round)
				}
			}
		}
		for _, text := range order {
			fmt.Fprintf(w, "  %s (rounds %s): %s\n", k, joinInts(seen[text]), text)
		}
	}
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ",")
}

// brokerTable prints cold start and memory per broker.
func (rs *results) brokerTable(w io.Writer, kinds []string) {
	fmt.Fprintln(w, "brokers (cold start: exec to the first ApiVersions answer; idle RSS: 1 s after; peak RSS: VmHWM at the end)")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "BROKER\tCOLD START ms\tIDLE RSS MiB\tPEAK RSS MiB")
	for _, k := range kinds {
		var cold, idle, peak []float64
		for _, b := range rs.Brokers {
			if b.Broker != k || b.ColdStartMs == 0 {
				continue
			}
			cold = append(cold, b.ColdStartMs)
			idle = append(idle, float64(b.IdleRSSKB)/1024)
			if b.PeakRSSKB > 0 {
				peak = append(peak, float64(b.PeakRSSKB)/1024)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k, statOf(cold).format(1), statOf(idle).format(1), statOf(peak).format(1))
	}
	tw.Flush()
	for _, b := range rs.Brokers {
		if b.Error != "" {
			fmt.Fprintf(w, "  %s round %d: %s\n", b.Broker, b.Round, b.Error)
		}
	}
}
