package e2e

import (
	"bufio"
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestDevCluster: `sluice dev cluster --nodes 4` starts four nodes (three
// voters and a broker) with their data in one folder and prints the
// bootstrap servers; kcat produces 100 records to a topic with the
// default replication factor (3) through that list and reads them back;
// Ctrl-C (SIGINT) stops every node and the command exits 0.
func TestDevCluster(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cmd := exec.Command(sluiceBin, "dev", "cluster", "--nodes", "4", "--base-port", "0", "--dir", dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	done := make(chan struct{}) // closed once the command has exited
	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		exited <- cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		select {
		case <-done:
		default:
			cmd.Process.Signal(syscall.SIGINT) // a failed test: the command stops its nodes
			<-done
		}
	})

	var bootstrap string
	var pids []int
	pidRE := regexp.MustCompile(`^node \d+ .* pid (\d+) `)
	timeout := time.After(90 * time.Second)
	for bootstrap == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("dev cluster ended before it was ready: %v\n%s", <-exited, stderr.String())
			}
			if m := pidRE.FindStringSubmatch(l); m != nil {
				pid, _ := strconv.Atoi(m[1])
				pids = append(pids, pid)
			}
			if rest, ok := strings.CutPrefix(l, "bootstrap servers: "); ok {
				bootstrap = rest
			}
		case <-timeout:
			t.Fatal("dev cluster printed no bootstrap servers within 90 s")
		}
	}
	if len(pids) != 4 || len(strings.Split(bootstrap, ",")) != 4 {
		t.Fatalf("pids %v, bootstrap %q: want four nodes", pids, bootstrap)
	}

	var in strings.Builder
	for i := range 100 {
		fmt.Fprintf(&in, "r%d\n", i)
	}
	run(t, kcatTimeout, strings.NewReader(in.String()), "kcat", "-b", bootstrap, "-P", "-t", "dev", "-X", "acks=all")
	got := run(t, kcatTimeout, nil, "kcat", "-b", bootstrap, "-C", "-t", "dev", "-o", "beginning", "-e", "-q")
	if n := len(strings.Fields(got)); n != 100 {
		t.Fatalf("read %d records back, want 100", n)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(bootstrap, ",")...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	md, err := kadm.NewClient(cl).Metadata(ctx, "dev")
	if err != nil {
		t.Fatal(err)
	}
	if len(md.Brokers) != 4 || len(md.Topics["dev"].Partitions[0].Replicas) != 3 {
		t.Fatalf("%d brokers, dev's replicas %v: want 4 brokers and 3 replicas", len(md.Brokers), md.Topics["dev"].Partitions[0].Replicas)
	}

	quorumOut := run(t, 30*time.Second, nil, sluiceBin, "-b", bootstrap, "cluster", "quorum")
	if strings.Count(quorumOut, "Leader") != 1 || strings.Count(quorumOut, "Follower") != 2 || strings.Count(quorumOut, "Observer") != 1 {
		t.Errorf("sluice cluster quorum: want a leader, two followers and an observer:\n%s", quorumOut)
	}

	// Leaders are the preferred replicas already: nothing to elect.
	electOut := run(t, 30*time.Second, nil, sluiceBin, "-b", bootstrap, "cluster", "leaders", "elect", "dev")
	if !strings.Contains(electOut, "dev    0          ELECTION_NOT_NEEDED") {
		t.Errorf("sluice cluster leaders elect dev:\n%s", electOut)
	}

	cmd.Process.Signal(syscall.SIGINT)
	for range lines { // drain what it prints while stopping
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("dev cluster exited with %v after Ctrl-C:\n%s", err, stderr.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatal("dev cluster did not stop within 60 s of Ctrl-C")
	}
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); err == nil {
			t.Errorf("node process %d still runs after dev cluster stopped", pid)
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// TestBenchClusterKill: `sluice bench e2e --cluster 3 --kill-after` starts
// its own three-node cluster, kills the leader of partition 0 with SIGKILL
// during the run, and its check finds every acknowledged record exactly
// once and in order (it exits 1 otherwise).
func TestBenchClusterKill(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, sluiceBin, "bench", "e2e", "--cluster", "3", "--kill-after", "2s",
		"--rate", "2000", "--duration", "6s", "-p", "3", "-s", "256", "--metadata-min-age", "100ms",
		"--progress=false", "--json")
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("bench e2e --cluster: %v\nstdout: %s\nstderr: %s", err, stdout.String(), stderr.String())
	}
	if !strings.Contains(stderr.String(), "killed node ") {
		t.Fatalf("no leader was killed: %s", stderr.String())
	}
	for _, want := range []string{`"lost": 0`, `"duplicated": 0`, `"reordered": 0`, `"errors": 0`} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("result lacks %s: %s", want, stdout.String())
		}
	}
}
