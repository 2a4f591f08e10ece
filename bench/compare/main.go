// Compare runs the same benchmark workloads against Sluice and against
// franz-go's kfake, and prints medians and ranges side by side.
//
//	go run ./bench/compare -rounds 3 -workloads a,b,c,d
//	go run ./bench/compare -scale 0.05 -rounds 1        # a quick look
//
// Three brokers, each a child process on a free loopback port with a
// fresh temp data dir, so that its CPU time (utime+stime from
// /proc/<pid>/stat) is its own:
//
//   - sluice: the real `sluice serve` binary, built with `go build -o`
//     into a temp dir (or -sluice-bin).
//   - kfake: franz-go's fake cluster with disk persistence (kfake.DataDir,
//     page cache; -kfake-sync fsyncs every batch). This program re-executes
//     itself with the hidden flag -serve-kfake PORT -data DIR.
//   - ceiling: kfake with BlackholeProduce, which acknowledges produce
//     requests without storing them: what the client alone can push, the
//     upper bound for any broker on this machine; with SyntheticFetch for
//     consumes. It cannot run e2e.
//
// The workloads (issue 5; -scale multiplies records and durations):
//
//	a  produce, 1 partition, 1 KiB, acks=1, 1M records
//	b  produce, 6 partitions, 1 KiB, acks=all, idempotent, 1M records
//	c  produce, 6 partitions, 100 B, acks=1, 2M records
//	d  e2e, 6 partitions, 1 KiB, acks=all, 20,000 records/s for 20 s, linger 0
//	d1 d with acks=1
//	ca, cb, cc  consume, by one client, what a writes, 500,000 records
//	            written as b, and what c writes
//	db d for 10 s right after 2 GiB were produced with acks=1 to another topic
//	dw d for 10 s while another process writes 2 GiB to the broker's file system
//	dk db with what is dirty on the broker's file system written back as it starts
//
// The default list is a,b,c,d,cb,db. The ceiling answers fetches from a
// canned batch in memory (kfake.SyntheticFetch): what the client alone can
// read.
//
// Each round starts every broker afresh, in turn (sluice, kfake, ceiling,
// then again next round), measures its cold start (exec to the first good
// ApiVersions answer) and idle RSS (VmRSS one second later), runs the
// workloads, and reads the broker's CPU time around each one. The clients
// run in this process (internal/bench), so on a small machine they compete
// with the broker for CPU: compare ratios, not absolute figures.
//
// Where a broker cannot do what a workload asks (a broker without
// InitProducerId runs b without idempotence), the result carries a note
// and the report prints it.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
)

// options are the command-line flags.
type options struct {
	rounds    int
	workloads string
	brokers   string
	scale     float64
	sluiceBin string
	kfakeSync bool
	sluiceSet string
	sluiceEnv string
	jsonOut   string
	verbose   bool

	// child mode (hidden)
	serveKfake int
	data       string
	blackhole  bool
	sync       bool
	synthetic  int
}

var hidden = map[string]bool{"serve-kfake": true, "data": true, "blackhole": true, "sync": true, "synthetic": true}

func parseFlags() *options {
	o := &options{}
	flag.IntVar(&o.rounds, "rounds", 3, "rounds; each runs every broker once, in turn")
	flag.StringVar(&o.workloads, "workloads", defaultWorkloads, "workloads to run (comma-separated: a, b, c, d, d1, ca, cb, cc, db, dw, dk)")
	flag.StringVar(&o.brokers, "brokers", "sluice,kfake,ceiling", "brokers to compare")
	flag.Float64Var(&o.scale, "scale", 1, "multiply records and durations by this (e.g. 0.1 for a quick run)")
	flag.StringVar(&o.sluiceBin, "sluice-bin", "", "sluice binary to run (default: go build ./cmd/sluice into a temp dir)")
	flag.BoolVar(&o.kfakeSync, "kfake-sync", false, "kfake fsyncs every batch (kfake.SyncWrites)")
	flag.StringVar(&o.sluiceSet, "sluice-set", "", "broker settings for sluice serve, comma-separated key=value (e.g. sluice.fsync.scope=filesystem)")
	flag.StringVar(&o.sluiceEnv, "sluice-env", "", "environment for sluice serve, comma-separated KEY=VALUE (e.g. GOMAXPROCS=1)")
	flag.StringVar(&o.jsonOut, "json", "", "also write every sample as JSON to this file")
	flag.BoolVar(&o.verbose, "v", false, "print each run's progress lines")
	flag.IntVar(&o.serveKfake, "serve-kfake", 0, "internal: serve a kfake broker on this port")
	flag.StringVar(&o.data, "data", "", "internal: kfake data dir")
	flag.BoolVar(&o.blackhole, "blackhole", false, "internal: kfake BlackholeProduce")
	flag.BoolVar(&o.sync, "sync", false, "internal: kfake SyncWrites")
	flag.IntVar(&o.synthetic, "synthetic", 0, "internal: kfake SyntheticFetch of values this size")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: go run ./bench/compare [flags]\n")
		flag.VisitAll(func(f *flag.Flag) {
			if !hidden[f.Name] {
				fmt.Fprintf(flag.CommandLine.Output(), "  -%s\t%s (default %q)\n", f.Name, f.Usage, f.DefValue)
			}
		})
	}
	flag.Parse()
	return o
}

func main() {
	o := parseFlags()
	if o.serveKfake != 0 {
		if err := serveKfake(o.serveKfake, o.data, o.blackhole, o.sync, o.synthetic); err != nil {
			fmt.Fprintf(os.Stderr, "compare: %v\n", err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := compare(ctx, o); err != nil {
		fmt.Fprintf(os.Stderr, "compare: %v\n", err)
		os.Exit(1)
	}
}

func compare(ctx context.Context, o *options) error {
	ws, err := pickWorkloads(allWorkloads(o.scale), o.workloads)
	if err != nil {
		return err
	}
	kinds, err := pickBrokers(o.brokers)
	if err != nil {
		return err
	}
	if o.rounds < 1 || o.scale <= 0 {
		return fmt.Errorf("-rounds and -scale must be > 0")
	}
	work, err := os.MkdirTemp("", "sluice-compare-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	e := env{sluiceBin: o.sluiceBin, workDir: work, kfakeSync: o.kfakeSync}
	if o.sluiceSet != "" {
		e.sluiceSet = strings.Split(o.sluiceSet, ",")
	}
	if o.sluiceEnv != "" {
		e.sluiceEnv = strings.Split(o.sluiceEnv, ",")
		for _, kv := range e.sluiceEnv {
			if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
				return fmt.Errorf("-sluice-env: %q is not KEY=VALUE", kv)
			}
		}
	}
	if e.self, err = os.Executable(); err != nil {
		return err
	}
	if e.sluiceBin == "" && contains(kinds, kindSluice) {
		if e.sluiceBin, err = buildSluice(ctx, work); err != nil {
			return err
		}
	}
	printSetup(o, ws, kinds)
	var all results
	for round := 1; round <= o.rounds; round++ {
		for _, kind := range kinds {
			if err := all.runBroker(ctx, round, kind, ws, e, o.verbose); err != nil {
				return err
			}
		}
	}
	all.report(os.Stdout, ws, kinds)
	if o.jsonOut != "" {
		b, err := json.MarshalIndent(all, "", "  ")
		if err != nil {
			return err
		}
		return os.WriteFile(o.jsonOut, b, 0o644)
	}
	return nil
}

func pickBrokers(list string) ([]string, error) {
	var out []string
	for k := range strings.SplitSeq(list, ",") {
		switch k = strings.TrimSpace(k); k {
		case kindSluice, kindKfake, kindCeiling:
			out = append(out, k)
		default:
			return nil, fmt.Errorf("-brokers: unknown broker %q (have sluice, kfake, ceiling)", k)
		}
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// buildSluice builds cmd/sluice into dir; it must run inside the module.
func buildSluice(ctx context.Context, dir string) (string, error) {
	out := filepath.Join(dir, "sluice")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "github.com/sluice-io/sluice/cmd/sluice")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build sluice (run from inside the sluice module, or pass -sluice-bin): %w", err)
	}
	return out, nil
}

func printSetup(o *options, ws []workload, kinds []string) {
	fmt.Printf("sluice bench compare: %d round(s), scale %g, brokers %s, %d CPUs (%s/%s), clients in-process\n",
		o.rounds, o.scale, strings.Join(kinds, ","), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH)
	sync := "page cache, no fsync"
	if o.kfakeSync {
		sync = "fsync every batch"
	}
	fmt.Printf("  sluice: acks=all answered after an fsync (group commit); acks=1 from the page cache\n")
	if o.sluiceSet != "" {
		fmt.Printf("  sluice settings: %s\n", o.sluiceSet)
	}
	if o.sluiceEnv != "" {
		fmt.Printf("  sluice environment: %s\n", o.sluiceEnv)
	}
	fmt.Printf("  kfake:  kfake.DataDir, %s; ceiling: kfake.BlackholeProduce (acks without storing)\n", sync)
	for _, w := range ws {
		fmt.Printf("  %s: %s\n", w.name, w.desc)
	}
	fmt.Println()
}
