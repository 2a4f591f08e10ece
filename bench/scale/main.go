// Scale measures Sluice's memory and start-up budgets (issue 5) on this
// machine, against a real `sluice serve` child process on loopback:
//
//	go run ./bench/scale                       # everything (about 2-4 minutes)
//	go run ./bench/scale -only idle,conns      # some measurements
//	go run ./bench/scale -restart-gib 1        # a smaller kill -9 restart
//
// Measurements, each on a fresh broker with a fresh temp data dir:
//
//   - cold: exec to the first ApiVersions answer (median of -cold-runs).
//   - idle: VmRSS one second after start, nothing created.
//   - partitions: create -partitions partitions (topics of
//     -topic-partitions, at most -request-partitions per CreateTopics
//     request), write one record to each, restart the broker cleanly and
//     after kill -9; after each step the broker's descriptors, memory
//     maps and VmRSS, and how long the step took (partitions.go).
//   - conns: VmRSS with -conns client connections open, each having sent
//     one ApiVersions request, then idle (this process and the broker get
//     RLIMIT_NOFILE raised).
//   - restart: produce -restart-gib GiB over -restart-partitions
//     partitions (acks=1, 16 KiB records, with `sluice bench produce`),
//     kill -9 the broker, start it again on the same data dir, and time
//     exec to the first ApiVersions answer (ready) and to every partition
//     answering ListOffsets with the end offset it had before the kill
//     (serving).
//
// Everything is loopback, bounded by -timeout, and removed afterwards.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

type options struct {
	sluiceBin         string
	only              string
	coldRuns          int
	partitions        int
	topicPartitions   int
	requestPartitions int
	partitionsWrite   bool
	partitionsRestart bool
	stopTimeout       time.Duration
	conns             int
	restartGiB        float64
	restartPartitions int
	restartProfile    string
	timeout           time.Duration
	workDir           string
}

func main() {
	o := &options{}
	flag.StringVar(&o.sluiceBin, "sluice-bin", "", "sluice binary (default: go build ./cmd/sluice into a temp dir)")
	flag.StringVar(&o.only, "only", "cold,idle,partitions,conns,restart", "measurements to run")
	flag.IntVar(&o.coldRuns, "cold-runs", 5, "cold starts to take the median of")
	flag.IntVar(&o.partitions, "partitions", 10000, "partitions for the partitions measurement")
	flag.IntVar(&o.topicPartitions, "topic-partitions", 1000, "partitions per topic of the partitions measurement")
	flag.IntVar(&o.requestPartitions, "request-partitions", 10000, "metadata records (partitions and topics) per CreateTopics request at most (Kafka caps at 10,000)")
	flag.BoolVar(&o.partitionsWrite, "partitions-write", true, "write one record to every partition")
	flag.BoolVar(&o.partitionsRestart, "partitions-restart", true, "restart the broker cleanly and after kill -9")
	flag.DurationVar(&o.stopTimeout, "stop-timeout", 10*time.Minute, "how long a clean stop of the partitions broker may take")
	flag.IntVar(&o.conns, "conns", 10000, "idle connections for the conns measurement")
	flag.Float64Var(&o.restartGiB, "restart-gib", 10, "GiB written before the kill -9 restart")
	flag.StringVar(&o.restartProfile, "restart-cpuprofile", "", "write a CPU profile of the restarted broker to FILE")
	flag.IntVar(&o.restartPartitions, "restart-partitions", 1000, "partitions they are spread over")
	flag.DurationVar(&o.timeout, "timeout", 20*time.Minute, "stop everything after this long")
	flag.StringVar(&o.workDir, "dir", "", "parent of the temp dirs (default: the system temp dir)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "scale:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o *options) error {
	work, err := os.MkdirTemp(o.workDir, "sluice-scale-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	if o.sluiceBin == "" {
		o.sluiceBin = filepath.Join(work, "sluice")
		build := exec.CommandContext(ctx, "go", "build", "-o", o.sluiceBin, "./cmd/sluice")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("build sluice (run from the repository root): %w", err)
		}
	}
	if err := raiseNoFile(o.conns + 1000); err != nil {
		fmt.Fprintf(os.Stderr, "note: %v\n", err)
	}
	e := &env{bin: o.sluiceBin, work: work}
	steps := []struct {
		name string
		f    func(context.Context, *env, *options) ([]row, error)
	}{
		{"cold", measureCold},
		{"idle", measureIdle},
		{"partitions", measurePartitions},
		{"conns", measureConns},
		{"restart", measureRestart},
	}
	fmt.Printf("sluice scale: %s, GOMAXPROCS of the broker = its default\n", o.sluiceBin)
	failed := false
	for _, s := range steps {
		if !strings.Contains(","+o.only+",", ","+s.name+",") {
			continue
		}
		fmt.Fprintf(os.Stderr, "%s: running\n", s.name)
		rows, err := s.f(ctx, e, o)
		for _, r := range rows {
			fmt.Printf("%-12s %-44s %s\n", s.name, r.what, r.value)
		}
		if err != nil {
			fmt.Printf("%-12s ERROR %v\n", s.name, err)
			failed = true
		}
	}
	if failed {
		return fmt.Errorf("some measurements failed")
	}
	return nil
}

// row is one reported figure.
type row struct{ what, value string }

func mib(kb int64) string { return fmt.Sprintf("%.1f MiB", float64(kb)/1024) }

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

// raiseNoFile raises this process's open-file limit (children inherit it).
func raiseNoFile(n int) error {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return err
	}
	want := min(uint64(n), l.Max)
	if l.Cur >= want {
		return nil
	}
	l.Cur = want
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return fmt.Errorf("raise RLIMIT_NOFILE to %d: %w", want, err)
	}
	if want < uint64(n) {
		return fmt.Errorf("RLIMIT_NOFILE hard limit is %d, below the %d wanted", l.Max, n)
	}
	return nil
}
